/*
 * libFuzzer target: query strings and path segments (src/query.c). The input is a little
 * program that builds a query table in a Lua state (nested tables, arrays, strings with any
 * bytes, integers, floats including NaN and infinities, booleans, non-string keys), which
 * query_add_table encodes; the first string also goes through query_add_path_segment.
 * Properties: no crash, no sanitizer report, a balanced stack; a query that encodes is made only
 * of unreserved characters, %XX escapes, '=' and '&', with exactly one '=' in each pair; a
 * path segment never holds '/', '?', '#' or a bare dot segment, and decodes back to the id.
 * A table that cannot be a query raises a Lua error (allowed), never anything worse.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "query.h"

#define FUZZ_MAX_DEPTH 12 /* deeper than query.c accepts, so its limit is reached too */

struct reader {
  const uint8_t *p, *end;
};

static unsigned fuzz_byte(struct reader *r) { return r->p < r->end ? *r->p++ : 0; }

/* Pushes a string of up to 63 bytes taken from the input. */
static void fuzz_push_string(lua_State *L, struct reader *r) {
  size_t n = fuzz_byte(r) & 63;
  if (n > (size_t)(r->end - r->p)) n = (size_t)(r->end - r->p);
  lua_pushlstring(L, (const char *)r->p, n);
  r->p += n;
}

static void fuzz_push_number(lua_State *L, struct reader *r) {
  uint64_t bits = 0;
  int i;
  for (i = 0; i < 8; i++) bits = bits << 8 | fuzz_byte(r);
  if (bits & 1) {
    double d;
    memcpy(&d, &bits, sizeof d);
    lua_pushnumber(L, (lua_Number)d); /* any double: NaN, inf, -0.0, subnormals */
  } else {
    lua_pushinteger(L, (lua_Integer)(bits >> 1) - (lua_Integer)(INT64_MAX / 4));
  }
}

static void fuzz_push_table(lua_State *L, struct reader *r, int depth);

/* Pushes one value: a scalar, an array of scalars, or a nested table. */
static void fuzz_push_value(lua_State *L, struct reader *r, int depth) {
  unsigned op = fuzz_byte(r);
  switch (op % 6) {
    case 0: fuzz_push_string(L, r); break;
    case 1: fuzz_push_number(L, r); break;
    case 2: lua_pushboolean(L, (int)(op & 8)); break;
    case 3: { /* an array of up to 7 values, which may themselves be tables */
      unsigned i, n = (op >> 3) & 7;
      lua_createtable(L, (int)n, 0);
      for (i = 1; i <= n; i++) {
        if (depth < FUZZ_MAX_DEPTH) fuzz_push_value(L, r, depth + 1);
        else fuzz_push_string(L, r);
        lua_rawseti(L, -2, (lua_Integer)i);
      }
      break;
    }
    case 4:
      if (depth < FUZZ_MAX_DEPTH) fuzz_push_table(L, r, depth + 1);
      else lua_newtable(L);
      break;
    default: lua_pushlightuserdata(L, NULL); break; /* telnyx.null: not a query value */
  }
}

/* Pushes a table of up to 15 fields; keys are mostly strings, sometimes numbers or booleans. */
static void fuzz_push_table(lua_State *L, struct reader *r, int depth) {
  unsigned i, n = fuzz_byte(r) & 15;
  luaL_checkstack(L, 4, "fuzz nesting");
  lua_newtable(L);
  for (i = 0; i < n && r->p < r->end; i++) {
    unsigned kind = fuzz_byte(r);
    if (kind % 8 == 0) fuzz_push_number(L, r);
    else if (kind % 8 == 1) lua_pushboolean(L, 1);
    else fuzz_push_string(L, r);
    if (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) != lua_tonumber(L, -1)) {
      lua_pop(L, 1); /* NaN cannot be a key */
      lua_pushliteral(L, "nan");
    }
    fuzz_push_value(L, r, depth);
    lua_rawset(L, -3);
  }
}

static int fuzz_hex(int c) {
  return (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

/* Checks an encoded run: unreserved bytes and %XX only (plus `extra`); returns its decoding. */
static size_t fuzz_check_encoded(const char *s, size_t n, const char *extra, char *out) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '%') {
      FUZZ_CHECK(i + 2 < n, "a % escape has two digits");
      FUZZ_CHECK(fuzz_hex(s[i + 1]) >= 0 && fuzz_hex(s[i + 2]) >= 0, "a % escape is %XX");
      if (out) out[o++] = (char)(fuzz_hex(s[i + 1]) << 4 | fuzz_hex(s[i + 2]));
      i += 2;
      continue;
    }
    FUZZ_CHECK((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '_' || c == '~' || (extra && c && strchr(extra, c)),
               "only unreserved characters are left unescaped");
    if (out) out[o++] = (char)c;
  }
  return o;
}

/* Protected: [query table, id] -> the encoded query and path segment, checked. */
static int fuzz_protected(lua_State *L) {
  struct buf *b;
  size_t n, idn, i, start, pairs = 0, equals = 0;
  const char *s, *id = lua_tolstring(L, 2, &idn);
  char *decoded;
  b = buf_new(L);
  query_add_path_segment(L, b, id, idn);
  buf_push_result(L, -1);
  s = lua_tolstring(L, -1, &n);
  FUZZ_CHECK(memchr(s, '/', n) == NULL && memchr(s, '?', n) == NULL && memchr(s, '#', n) == NULL,
             "a path segment stays one segment");
  FUZZ_CHECK(!(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.'),
             "a path segment is never a dot segment");
  decoded = lua_newuserdatauv(L, n + 1, 0);
  i = fuzz_check_encoded(s, n, NULL, decoded);
  FUZZ_CHECK(i == idn && memcmp(decoded, id, idn) == 0, "a path segment decodes back to the id");
  lua_pop(L, 2);
  b = buf_new(L);
  query_add_table(L, b, 1);
  buf_push_result(L, -1);
  s = lua_tolstring(L, -1, &n);
  fuzz_check_encoded(s, n, "=&", NULL);
  for (start = 0, i = 0; i <= n; i++) {
    if (i == n || s[i] == '&') {
      if (i > start) pairs++;
      FUZZ_CHECK(i > start || n == 0, "no empty pair");
      start = i + 1;
    } else if (s[i] == '=') {
      equals++;
    }
  }
  FUZZ_CHECK(pairs == equals, "one '=' in each pair");
  lua_pop(L, 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state();
  struct reader r;
  int top = lua_gettop(L);
  r.p = data;
  r.end = data + size;
  lua_pushcfunction(L, fuzz_protected);
  fuzz_push_table(L, &r, 0);
  lua_pushlstring(L, (const char *)data, size > 40 ? 40 : size); /* the id */
  if (lua_pcall(L, 2, 0, 0) != LUA_OK)
    FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING, "query errors are messages");
  lua_settop(L, top);
  return 0;
}
