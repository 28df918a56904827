/*
 * JSON in C. Decoding goes through lua-cjson (Debian's 2.1.0), which turns every number into a
 * float and `[]` into a table indistinguishable from `{}`. So the text is prepared first: `[]`
 * and integers too long for a double become marker strings that cannot occur in valid UTF-8
 * (they start with byte 0xFF), and a walk over the result turns markers back into empty
 * arrays and exact integers, and integral floats into integers. Encoding is done here, since
 * cjson 2.1.0 writes large integers with 14 digits and empty arrays as objects.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua-cjson.h>

#include "buf.h"
#include "json.h"

#define JSON_MARK 0xFF /* never valid in UTF-8: a string starting with it is ours */
#define JSON_MARK_EMPTY_ARRAY '['
#define JSON_MARK_INTEGER 'I'
#define JSON_EXACT_DIGITS 15 /* a double holds every integer of up to 15 digits exactly */

static const char json_decoder_key = 'd'; /* registry: cjson's decode function */

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
static size_t json_utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  size_t len, i;
  unsigned long cp;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
  if (cp >= 0xD800 && cp <= 0xDFFF) return 0; /* surrogates are not characters */
  return len;
}

static int json_valid_utf8(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t k = json_utf8_len((const unsigned char *)s + i, n - i);
    if (k == 0) return 0;
    i += k;
  }
  return 1;
}

/* ---- decoding ---- */

static int json_is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int json_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Where the text needs markers; `out` NULL only checks. */
struct json_prep {
  const char *text;
  size_t len;
  luaL_Buffer *out;
  int needs_rewrite;
  size_t bad_utf8_at; /* 1-based position of invalid UTF-8 in a string, 0 if none */
};

static void json_emit(struct json_prep *p, const char *s, size_t n) {
  if (p->out) luaL_addlstring(p->out, s, n);
}

/* Skips a string starting at the quote at i; returns the index after it. */
static size_t json_scan_string(struct json_prep *p, size_t i) {
  const unsigned char *s = (const unsigned char *)p->text;
  size_t j = i + 1;
  while (j < p->len && s[j] != '"') {
    if (s[j] == '\\') {
      j += 2;
    } else if (s[j] >= 0x80) {
      size_t k = json_utf8_len(s + j, p->len - j);
      if (k == 0) {
        if (p->bad_utf8_at == 0) p->bad_utf8_at = j + 1;
        k = 1;
      }
      j += k;
    } else {
      j++;
    }
  }
  return j < p->len ? j + 1 : p->len;
}

/* One pass over the text; with p->out set, writes the marked-up copy. */
static void json_scan(struct json_prep *p) {
  const char *s = p->text;
  size_t i = 0, start = 0;
  while (i < p->len) {
    char c = s[i];
    if (c == '"') {
      i = json_scan_string(p, i);
    } else if (c == '[') {
      size_t k = i + 1;
      while (k < p->len && json_is_space(s[k])) k++;
      if (k < p->len && s[k] == ']') {
        static const char mark[] = {'"', (char)JSON_MARK, JSON_MARK_EMPTY_ARRAY, '"'};
        json_emit(p, s + start, i - start);
        json_emit(p, mark, sizeof mark);
        p->needs_rewrite = 1;
        start = i = k + 1;
      } else {
        i++;
      }
    } else if (c == '-' || json_is_digit(c)) {
      size_t j = i + (c == '-'), digits;
      int integral;
      while (j < p->len && json_is_digit(s[j])) j++;
      digits = j - i - (c == '-');
      integral = !(j < p->len && (s[j] == '.' || s[j] == 'e' || s[j] == 'E'));
      if (!integral) { /* skip the rest of the token: its digits are not an integer's */
        while (j < p->len && (json_is_digit(s[j]) || (s[j] != '\0' && strchr(".eE+-", s[j]) != NULL))) j++;
      } else if (digits > JSON_EXACT_DIGITS) {
        static const char mark[] = {'"', (char)JSON_MARK, JSON_MARK_INTEGER};
        json_emit(p, s + start, i - start);
        json_emit(p, mark, sizeof mark);
        json_emit(p, s + i, j - i);
        json_emit(p, "\"", 1);
        p->needs_rewrite = 1;
        start = j;
      }
      i = j;
    } else {
      i++;
    }
  }
  json_emit(p, s + start, p->len - start);
}

/* Turns the marker string on top of the stack into its value, in place. */
static void json_unmark(lua_State *L) {
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  if (s[1] == JSON_MARK_EMPTY_ARRAY) {
    lua_pop(L, 1);
    lua_newtable(L);
    luaL_setmetatable(L, JSON_ARRAY_MT);
  } else if (lua_stringtonumber(L, s + 2) != 0) { /* integer if it fits, else the nearest float */
    lua_remove(L, -2);
  }
}

static void json_fixup(lua_State *L);

/* Fixes the value on top of the stack in place; returns 1 when it was replaced. */
static int json_fix_top(lua_State *L) {
  switch (lua_type(L, -1)) {
    case LUA_TNUMBER:
      if (!lua_isinteger(L, -1)) {
        lua_Number n = lua_tonumber(L, -1);
        lua_Integer i;
        if (n == floor(n) && lua_numbertointeger(n, &i)) {
          lua_pop(L, 1);
          lua_pushinteger(L, i);
          return 1;
        }
      }
      return 0;
    case LUA_TSTRING:
      if ((unsigned char)lua_tostring(L, -1)[0] != JSON_MARK) return 0;
      json_unmark(L);
      return 1;
    case LUA_TTABLE:
      json_fixup(L);
      return 0;
    default:
      return 0;
  }
}

/*
 * Fixes numbers and markers in the table on top of the stack, and marks arrays. Depth needs
 * no check here: cjson refused anything deeper than JSON_MAX_DEPTH.
 */
static void json_fixup(lua_State *L) {
  int first = 1;
  luaL_checkstack(L, 4, "JSON nesting");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    if (first && lua_type(L, -2) == LUA_TNUMBER) { /* cjson gives objects string keys only */
      lua_pushvalue(L, -3);
      luaL_setmetatable(L, JSON_ARRAY_MT);
      lua_pop(L, 1);
    }
    first = 0;
    if (json_fix_top(L)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4); /* changing an existing field is allowed during lua_next */
    } else {
      lua_pop(L, 1);
    }
  }
}

/* Protected part of json_decode: [text] -> [value]. */
static int json_decode_protected(lua_State *L) {
  size_t len;
  const char *text = lua_tolstring(L, 1, &len);
  struct json_prep prep;
  memset(&prep, 0, sizeof prep);
  prep.text = text;
  prep.len = len;
  json_scan(&prep);
  if (prep.bad_utf8_at)
    return luaL_error(L, "invalid UTF-8 in a string at byte %d", (int)prep.bad_utf8_at);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_decoder_key);
  if (prep.needs_rewrite) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    prep.out = &b;
    json_scan(&prep);
    luaL_pushresult(&b);
  } else {
    lua_pushvalue(L, 1);
  }
  lua_call(L, 1, 1);
  json_fix_top(L);
  return 1;
}

int json_decode(lua_State *L, const char *text, size_t len) {
  int status;
  lua_pushcfunction(L, json_decode_protected);
  lua_pushlstring(L, text, len);
  status = lua_pcall(L, 1, 1, 0);
  if (status == LUA_OK) return 1;
  if (status == LUA_ERRMEM) lua_error(L);
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "invalid JSON");
  }
  return 0;
}

/* ---- encoding ---- */


static void json_put_string(lua_State *L, struct buf *o, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  if (!json_valid_utf8(s, n)) luaL_error(L, "cannot encode a string that is not valid UTF-8");
  buf_add_literal(L, o, "\"");
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    buf_add(L, o, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': buf_add_literal(L, o, "\\\""); break;
      case '\\': buf_add_literal(L, o, "\\\\"); break;
      case '\n': buf_add_literal(L, o, "\\n"); break;
      case '\r': buf_add_literal(L, o, "\\r"); break;
      case '\t': buf_add_literal(L, o, "\\t"); break;
      default: {
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        buf_add(L, o, esc, sizeof esc);
      }
    }
  }
  buf_add(L, o, s + run, n - run);
  buf_add_literal(L, o, "\"");
}

static void json_put_number(lua_State *L, struct buf *o, int idx) {
  char num[64];
  int n;
  if (lua_isinteger(L, idx)) {
    n = snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
  } else {
    lua_Number x = lua_tonumber(L, idx);
    if (isnan(x) || isinf(x)) luaL_error(L, "cannot encode %s as JSON", isnan(x) ? "NaN" : "inf");
    n = snprintf(num, sizeof num, "%.14g", (double)x);
    if (strtod(num, NULL) != x) n = snprintf(num, sizeof num, "%.17g", (double)x);
  }
  buf_add(L, o, num, (size_t)n);
}

/* Length of the table at idx when it is a sequence 1..n without other keys, else -1. */
static lua_Integer json_array_length(lua_State *L, int idx) {
  lua_Integer count = 0, max = 0;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    int is_array = strcmp(lua_tostring(L, -1), JSON_ARRAY_MT) == 0;
    lua_pop(L, 1);
    if (is_array) return (lua_Integer)lua_rawlen(L, idx);
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      lua_pop(L, 1);
      return -1;
    }
    if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
    count++;
  }
  return (count > 0 && max == count) ? count : -1;
}

static void json_put_value(lua_State *L, struct buf *o, int idx, int depth);

static void json_put_table(lua_State *L, struct buf *o, int idx, int depth) {
  lua_Integer n, i;
  int first = 1;
  if (depth > JSON_MAX_DEPTH) luaL_error(L, "cannot encode tables nested deeper than %d (a cycle?)", JSON_MAX_DEPTH);
  luaL_checkstack(L, 4, "JSON nesting");
  n = json_array_length(L, idx);
  if (n >= 0) {
    buf_add_literal(L, o, "[");
    for (i = 1; i <= n; i++) {
      if (i > 1) buf_add_literal(L, o, ",");
      lua_rawgeti(L, idx, i);
      json_put_value(L, o, lua_gettop(L), depth + 1);
      lua_pop(L, 1);
    }
    buf_add_literal(L, o, "]");
    return;
  }
  buf_add_literal(L, o, "{");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    size_t klen;
    const char *key;
    if (lua_type(L, -2) != LUA_TSTRING) { /* a mixed table, a sparse array, a boolean key... */
      const char *kind = luaL_typename(L, -2); /* before luaL_tolstring pushes */
      luaL_error(L, "cannot encode a table with the %s key %s as JSON (an object needs string "
                 "keys only, an array the keys 1..n without holes)",
                 kind, luaL_tolstring(L, -2, NULL));
    }
    key = lua_tolstring(L, -2, &klen);
    if (!first) buf_add_literal(L, o, ",");
    first = 0;
    json_put_string(L, o, key, klen);
    buf_add_literal(L, o, ":");
    json_put_value(L, o, lua_gettop(L), depth + 1);
    lua_pop(L, 1);
  }
  buf_add_literal(L, o, "}");
}

static void json_put_value(lua_State *L, struct buf *o, int idx, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      buf_add_literal(L, o, "null");
      break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx))
        buf_add_literal(L, o, "true");
      else
        buf_add_literal(L, o, "false");
      break;
    case LUA_TNUMBER:
      json_put_number(L, o, idx);
      break;
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      json_put_string(L, o, s, n);
      break;
    }
    case LUA_TTABLE:
      json_put_table(L, o, idx, depth);
      break;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { /* telnyx.null */
        buf_add_literal(L, o, "null");
        break;
      }
      /* fall through */
    default:
      luaL_error(L, "cannot encode a %s value as JSON", luaL_typename(L, idx));
  }
}

void json_encode(lua_State *L, int idx) {
  struct buf *o;
  idx = lua_absindex(L, idx);
  o = buf_new(L);
  json_put_value(L, o, idx, 0);
  buf_push_result(L, -1);
}

/* ---- the telnyx.json table ---- */

static int json_l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  json_encode(L, 1);
  return 1;
}

static int json_l_decode(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  if (!json_decode(L, text, len)) return luaL_error(L, "invalid JSON: %s", lua_tostring(L, -1));
  return 1;
}

/* telnyx.json.array([t]): marks t (or a new table) as an array, so {} encodes as []. */
static int json_l_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) lua_newtable(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_setmetatable(L, JSON_ARRAY_MT);
  return 1;
}

void json_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"encode", json_l_encode}, {"decode", json_l_decode}, {"array", json_l_array}, {NULL, NULL}};
  /* A private cjson instance, so its settings are not shared with users' require "cjson". */
  luaL_requiref(L, "cjson", luaopen_cjson, 0);
  lua_getfield(L, -1, "new");
  lua_call(L, 0, 1);
  lua_getfield(L, -1, "decode_max_depth");
  lua_pushinteger(L, JSON_MAX_DEPTH);
  lua_call(L, 1, 0);
  lua_getfield(L, -1, "decode");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &json_decoder_key);
  lua_pop(L, 2);
  if (luaL_newmetatable(L, JSON_ARRAY_MT)) {
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  lua_pushlightuserdata(L, NULL); /* the same value cjson uses for null */
  lua_setfield(L, -2, "null");
}
