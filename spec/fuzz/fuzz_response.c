/*
 * libFuzzer target: what the client does with a response, without a network. The input is
 * two bytes of status, then header lines up to a blank line ("\n\n"), then the body:
 * response_push, the one path real calls take (JSON decoding, the error object and its one-line
 * message from the API's errors; raw = true too), the response headers table, Retry-After
 * parsing, x-should-retry, and the debug log's redaction of headers and bodies.
 * Properties: no crash, no sanitizer report, a balanced stack, an error object with a string
 * type and a one-line UTF-8 message (also through tostring), a wait that is -1 or a number >= 0.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "response.h"

static FILE *fuzz_log_sink;

/* Fills a transfer as http.c leaves it after a response: raw header lines, NUL-terminated. */
static void fuzz_fill(struct http_transfer *t, const uint8_t *data, size_t size) {
  static const char sep[] = "\n\n";
  const char *text = (const char *)data + 2, *end = (const char *)data + size, *split = NULL, *p;
  memset(t, 0, sizeof *t);
  t->status = 100 + (long)(((unsigned)data[0] << 8 | data[1]) % 500);
  for (p = text; p + 1 < end; p++)
    if (memcmp(p, sep, 2) == 0) {
      split = p;
      break;
    }
  if (split == NULL) split = end;
  {
    char status_line[32];
    size_t n = (size_t)snprintf(status_line, sizeof status_line, "HTTP/1.1 %ld X\r\n", t->status);
    size_t hlen = (size_t)(split - text);
    t->headers.data = malloc(n + hlen + 3);
    FUZZ_CHECK(t->headers.data != NULL, "memory");
    memcpy(t->headers.data, status_line, n);
    memcpy(t->headers.data + n, text, hlen);
    memcpy(t->headers.data + n + hlen, "\r\n", 3);
    t->headers.len = t->headers.cap = n + hlen + 2;
  }
  if (split + 2 <= end) {
    size_t blen = (size_t)(end - (split + 2));
    t->body.data = malloc(blen + 1);
    FUZZ_CHECK(t->body.data != NULL, "memory");
    memcpy(t->body.data, split + 2, blen);
    t->body.data[blen] = '\0';
    t->body.len = t->body.cap = blen;
  }
}

/* A readable line: no CR or LF, and valid UTF-8 (so a script can print it as JSON). */
static void fuzz_check_one_line(lua_State *L, int idx, const char *what) {
  size_t n, i, k;
  const char *s = lua_tolstring(L, idx, &n);
  FUZZ_CHECK(s != NULL, what);
  FUZZ_CHECK(memchr(s, '\n', n) == NULL && memchr(s, '\r', n) == NULL, what);
  for (i = 0; i < n; i += k) {
    k = json_utf8_len((const unsigned char *)s + i, n - i);
    FUZZ_CHECK(k > 0, what);
  }
}

/* Protected: [transfer] -> checks everything, leaves the stack as found. */
static int fuzz_protected(lua_State *L) {
  const struct http_transfer *t = lua_touserdata(L, 1);
  int base = lua_gettop(L), ok, retry;
  double wait;
  struct response_context ctx = {"GET", "http://127.0.0.1/v2/things", 1, 1000, 0};
  ok = response_push(L, t, &ctx);
  FUZZ_CHECK(lua_gettop(L) == base + 1, "response_push pushes exactly one value");
  if (!ok) {
    FUZZ_CHECK(lua_istable(L, -1), "an error is a table");
    FUZZ_CHECK(lua_getfield(L, -1, "type") == LUA_TSTRING, "an error has a string type");
    lua_pop(L, 1);
    FUZZ_CHECK(lua_getfield(L, -1, "message") == LUA_TSTRING, "an error has a string message");
    fuzz_check_one_line(L, -1, "the message is one line");
    lua_pop(L, 1);
    FUZZ_CHECK(lua_getfield(L, -1, "errors") == LUA_TTABLE, "errors is a table");
    lua_pop(L, 1);
    FUZZ_CHECK(lua_getfield(L, -1, "url") == LUA_TSTRING, "an error names the request's url");
    lua_pop(L, 1);
    luaL_tolstring(L, -1, NULL);
    fuzz_check_one_line(L, -1, "tostring(err) is one line");
    lua_pop(L, 1);
  } else if (t->status < 200 || t->status >= 300) {
    FUZZ_CHECK(0, "only a 2xx succeeds");
  }
  lua_pop(L, 1);
  ctx.raw = 1;
  ok = response_push(L, t, &ctx);
  FUZZ_CHECK(lua_gettop(L) == base + 1, "response_push with raw pushes exactly one value");
  FUZZ_CHECK(ok == (t->status >= 200 && t->status < 300), "with raw, a 2xx succeeds, nothing else");
  if (ok) {
    FUZZ_CHECK(lua_istable(L, -1) && lua_getfield(L, -1, "status") == LUA_TNUMBER, "raw has a status");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  response_push_headers(L, t);
  FUZZ_CHECK(lua_gettop(L) == base + 1 && lua_istable(L, -1), "headers push one table");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING,
               "header names and values are strings");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  wait = response_retry_after_ms(t);
  FUZZ_CHECK(wait == -1 || (wait >= 0 && !isnan(wait)), "a wait is -1 or >= 0");
  retry = response_should_retry(t);
  FUZZ_CHECK(retry >= -1 && retry <= 1, "x-should-retry is -1, 0 or 1");
  log_headers("response headers", t->headers.data, t->headers.len);
  log_body("response body", t->body.data ? t->body.data : "", t->body.len, 0);
  FUZZ_CHECK(lua_gettop(L) == base, "the stack is balanced");
  return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  fuzz_state();
  /* The debug log writes to stderr: send the C stream (not fd 2, where reports go) nowhere. */
  fuzz_log_sink = fopen("/dev/null", "w");
  FUZZ_CHECK(fuzz_log_sink != NULL, "cannot open /dev/null");
  stderr = fuzz_log_sink;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state();
  struct http_transfer t;
  int top = lua_gettop(L);
  if (size < 2) return 0;
  fuzz_fill(&t, data, size);
  lua_pushcfunction(L, fuzz_protected);
  lua_pushlightuserdata(L, &t);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(fuzz_out(), "fuzz: raised: %s\n", lua_tostring(L, -1));
    FUZZ_CHECK(0, "response handling raises no error");
  }
  FUZZ_CHECK(lua_gettop(L) == top, "the stack is balanced");
  free(t.headers.data);
  free(t.body.data);
  return 0;
}
