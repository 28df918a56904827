/*
 * Logging to stderr at the TELNYX_LOG level. Credentials never reach the log: secret headers
 * and the values of secret JSON keys are replaced by [redacted] while writing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lua.h>

#include "log.h"

#define LOG_BODY_MAX 65536 /* bytes of a body shown at debug */
#define LOG_REDACTED "[redacted]"

enum log_level log_level_from_env(void) {
  static const char *const names[] = {"off", "error", "warn", "info", "debug"};
  const char *v = getenv("TELNYX_LOG");
  int i;
  if (v == NULL) return LOG_WARN;
  for (i = 0; i < 5; i++)
    if (strcasecmp(v, names[i]) == 0) return (enum log_level)i;
  return LOG_WARN;
}

void log_printf(const char *fmt, ...) {
  va_list ap;
  flockfile(stderr);
  fputs("telnyx: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  funlockfile(stderr);
}

static int log_names_equal(const char *a, size_t alen, const char *b) {
  return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

int log_is_secret_header(const char *name, size_t len) {
  static const char *const secret[] = {"authorization", "api-key", "x-api-key", "cookie",
                                       "set-cookie", "proxy-authorization", NULL};
  int i;
  for (i = 0; secret[i] != NULL; i++)
    if (log_names_equal(name, len, secret[i])) return 1;
  return 0;
}

int log_is_secret_key(const char *key, size_t len) {
  static const char *const secret[] = {"password", "sip_password", "token", "api_key", NULL};
  size_t i;
  for (i = 0; secret[i] != NULL; i++)
    if (log_names_equal(key, len, secret[i])) return 1;
  for (i = 0; i + 6 <= len; i++) /* any key containing "secret" */
    if (strncasecmp(key + i, "secret", 6) == 0) return 1;
  return 0;
}

/* log_is_secret_key for the Lua parts (REPL printer, scripts): false for a non-string key. */
static int log_l_is_secret_key(lua_State *L) {
  size_t len = 0;
  const char *key = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
  lua_pushboolean(L, key != NULL && log_is_secret_key(key, len));
  return 1;
}

void log_open(lua_State *L) { lua_pushcfunction(L, log_l_is_secret_key); }

void log_headers(const char *title, const char *lines, size_t len) {
  const char *p = lines, *end = lines + len;
  flockfile(stderr);
  fprintf(stderr, "telnyx: %s\n", title);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *colon;
    size_t n;
    if (eol == NULL) eol = end;
    n = (size_t)(eol - p);
    while (n > 0 && p[n - 1] == '\r') n--;
    colon = memchr(p, ':', n);
    if (n > 0) {
      if (colon != NULL && log_is_secret_header(p, (size_t)(colon - p)))
        fprintf(stderr, "  %.*s: " LOG_REDACTED "\n", (int)(colon - p), p);
      else
        fprintf(stderr, "  %.*s\n", (int)n, p);
    }
    p = eol + 1;
  }
  funlockfile(stderr);
}

/* Index just past the JSON string whose opening quote is at s[i]. */
static size_t log_skip_string(const char *s, size_t n, size_t i) {
  for (i++; i < n && s[i] != '"'; i++)
    if (s[i] == '\\') i++;
  return i < n ? i + 1 : n;
}

/* Index just past the JSON value starting at s[i] (string, balanced container or scalar). */
static size_t log_skip_value(const char *s, size_t n, size_t i) {
  int depth = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      i = log_skip_string(s, n, i);
      if (depth == 0) return i;
      continue;
    }
    if (c == '{' || c == '[') depth++;
    if (c == '}' || c == ']') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    }
    if (c == ',' && depth == 0) return i;
    i++;
  }
  return n;
}

/* Writes JSON text with the values of secret keys replaced. */
static void log_write_redacted(const char *s, size_t n) {
  size_t i = 0, start = 0;
  while (i < n) {
    size_t end, j;
    if (s[i] != '"') {
      i++;
      continue;
    }
    end = log_skip_string(s, n, i);
    j = end;
    while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
    if (j < n && s[j] == ':' && end - i >= 2 && log_is_secret_key(s + i + 1, end - i - 2)) {
      j++;
      while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
      fwrite(s + start, 1, j - start, stderr);
      fputs("\"" LOG_REDACTED "\"", stderr);
      start = i = log_skip_value(s, n, j);
    } else {
      i = end;
    }
  }
  fwrite(s + start, 1, n - start, stderr);
}

void log_body(const char *title, const char *body, size_t len, int secret) {
  size_t shown = len > LOG_BODY_MAX ? LOG_BODY_MAX : len;
  flockfile(stderr);
  fprintf(stderr, "telnyx: %s (%zu bytes)\n  ", title, len);
  if (secret)
    fputs(LOG_REDACTED, stderr);
  else
    log_write_redacted(body, shown);
  if (shown < len) fputs(" [...]", stderr);
  fputc('\n', stderr);
  funlockfile(stderr);
}
