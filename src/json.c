/*
 * JSON in C, both ways. The decoder reads the text in one pass straight into Lua values: exact
 * integers (Lua integers whenever the value is integral and fits), arrays marked with the array
 * metatable so that `[]` survives a round trip, and `null` as telnyx.null in an array (no
 * holes) but as an absent field in an object, so `if rec.description then` means what it says.
 * An object with null fields gets a metatable holding the set of them, which the encoder and
 * the printer read: a record sent back keeps its nulls. Objects without nulls stay plain tables
 * at no extra cost, and the records of a list, which share their null fields, share one
 * metatable (each nesting level reuses the last one when the set is the same). The encoder
 * writes integers exactly and marked or sequence tables as arrays.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <lauxlib.h>

#include "buf.h"
#include "http.h"
#include "json.h"

/* ---- UTF-8 ---- */

size_t json_utf8_len(const unsigned char *s, size_t n) {
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

/*
 * One pass from text to Lua values, run under lua_pcall by json_decode so that any error
 * (always with the 1-based byte position) leaves nothing behind. Strings without escapes are
 * pushed straight from the text; integers are read exactly; every array gets the array
 * metatable, so `[]` stays an array. Objects and arrays in a list usually have the same shape,
 * so each nesting level remembers the size of its last table and sizes the next one to match,
 * each field slot its last key (across decodes) and its last short string value (within one).
 */

#define JSON_HINT_DEPTH 16 /* nesting levels that keep a size hint and cached keys */
#define JSON_KEY_SLOTS 16  /* cached keys per nesting level: the first fields of an object */
#define JSON_VALUE_SLOTS 64 /* cached string values, by (depth, field number), wrapping */
#define JSON_EXACT_INTEGER 9007199254740992.0 /* 2^53: floats below it hold integers exactly */
#define JSON_VALUE_MAX 40   /* longest cached value: Lua interns strings up to this length */
#define JSON_VALUE_TRIES 4  /* misses in a row after which a slot stops being tried */

/* registry: the key cache, a userdata of json_seen slots whose user value is the table of the
   key strings themselves (which keeps them alive) */
static const char json_keys_key = 'k';
/* registry: telnyx.null, a userdata of its own; and the last null-fields metatable made at
   each nesting level (a table by depth) */
static const char json_null_key = 'n';
static const char json_shapes_key = 's';
/* keys, in a null-fields metatable, of the set of the null keys and of their count */
static const char json_nulls_key = 'N';
static const char json_count_key = 'c';

/* The bytes of a string that Lua holds in a cache slot, so that text is matched against it
   without a call into Lua. */
struct json_seen {
  const char *s; /* NULL when the slot holds nothing */
  size_t len;
};

struct json_dec {
  lua_State *L;
  const char *text, *p, *end;
  int depth;
  int array_mt;           /* stack index of the array metatable */
  int null;               /* stack index of telnyx.null */
  int shapes;             /* stack index of the last null-fields metatable by depth */
  int keys;               /* stack index of the key strings */
  struct json_seen *key;  /* and their bytes, JSON_HINT_DEPTH * JSON_KEY_SLOTS slots */
  int values;             /* stack index of the first value slot */
  int hint_array[JSON_HINT_DEPTH], hint_object[JSON_HINT_DEPTH];
  struct json_seen value[JSON_VALUE_SLOTS];
  size_t cost, max_cost; /* estimated bytes of the Lua values made so far, and the bound */
  unsigned char value_misses[JSON_VALUE_SLOTS]; /* in a row; at JSON_VALUE_TRIES left alone */
};

static int json_is_digit(char c) { return c >= '0' && c <= '9'; }

static void json_fail(struct json_dec *d, const char *at, const char *what) {
  luaL_error(d->L, "%s at byte %d", what, (int)(at - d->text) + 1);
}

/*
 * Estimated Lua memory per value: a slot in its table, and for a table its header too. Text
 * such as [{},{},...] makes 80 bytes of Lua values out of 3 of text, so a decode is bounded by
 * what it makes, not by the length of its text.
 */
#define JSON_COST_SLOT 16
#define JSON_COST_TABLE 56
#define JSON_COST_STRING 24

static void json_charge(struct json_dec *d, size_t bytes) {
  d->cost += bytes;
  if (d->cost > d->max_cost)
    luaL_error(d->L, "the decoded value would take more than %I bytes of memory (the budget %s "
               "sets) at byte %d", (LUAI_UACINT)d->max_cost, HTTP_MAX_RESPONSE_ENV,
               (int)(d->p - d->text) + 1);
}

static void json_skip_space(struct json_dec *d) {
  const char *p = d->p;
  while (p < d->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  d->p = p;
}

/* The 4 hex digits at s as a number, or -1. */
static long json_hex4(const char *s) {
  long v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else return -1;
  }
  return v;
}

/* Decodes the escape at s (its backslash) into b; returns the position after it. */
static const char *json_read_escape(struct json_dec *d, luaL_Buffer *b, const char *s) {
  char out[4];
  long cp = 0, lo = 0;
  if (d->end - s < 2) json_fail(d, s, "unterminated string");
  switch (s[1]) {
    case '"': luaL_addchar(b, '"'); return s + 2;
    case '\\': luaL_addchar(b, '\\'); return s + 2;
    case '/': luaL_addchar(b, '/'); return s + 2;
    case 'b': luaL_addchar(b, '\b'); return s + 2;
    case 'f': luaL_addchar(b, '\f'); return s + 2;
    case 'n': luaL_addchar(b, '\n'); return s + 2;
    case 'r': luaL_addchar(b, '\r'); return s + 2;
    case 't': luaL_addchar(b, '\t'); return s + 2;
    case 'u': break;
    default: json_fail(d, s, "invalid escape in a string");
  }
  if (d->end - s < 6 || (cp = json_hex4(s + 2)) < 0) json_fail(d, s, "invalid \\u escape");
  s += 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF) json_fail(d, s - 6, "lone surrogate \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (d->end - s < 6 || s[0] != '\\' || s[1] != 'u' || (lo = json_hex4(s + 2)) < 0xDC00 || lo > 0xDFFF)
      json_fail(d, s - 6, "lone surrogate \\u escape");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    s += 6;
  }
  if (cp < 0x80) {
    luaL_addchar(b, (char)cp);
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    luaL_addlstring(b, out, 2);
  } else if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    luaL_addlstring(b, out, 3);
  } else {
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    luaL_addlstring(b, out, 4);
  }
  return s;
}

/*
 * Skips the run of string bytes at s that need no work (ASCII other than quote and backslash;
 * valid UTF-8 sequences) and returns where it stops. Raw control characters are let through,
 * as lua-cjson and most decoders do, though RFC 8259 wants them escaped.
 */
static const char *json_string_run(struct json_dec *d, const char *s) {
  const unsigned char *u = (const unsigned char *)s, *end = (const unsigned char *)d->end;
  const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
  for (;;) {
#if defined(__SSE2__)
    /* 16 bytes at a time: a mask of the quotes, backslashes and bytes from 0x80 up */
    while (end - u >= 16) {
      __m128i v = _mm_loadu_si128((const __m128i *)(const void *)u);
      __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
      int mask = _mm_movemask_epi8(_mm_or_si128(special, v));
      if (mask != 0) {
        u += __builtin_ctz((unsigned)mask);
        goto stopped;
      }
      u += 16;
    }
#endif
    /* 8 bytes at a time while none is a quote, a backslash or from 0x80 up */
    while (end - u >= 8) {
      uint64_t w, q, b, hits; /* bytes equal to '"' and '\\' become 0 in q and b */
      memcpy(&w, u, 8);
      q = w ^ (ones * '"');
      b = w ^ (ones * '\\');
      hits = (((q - ones) & ~q) | ((b - ones) & ~b) | w) & high;
      if (hits) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* The lowest flagged byte is always a true hit (a borrow only flags bytes above one). */
        u += __builtin_ctzll(hits) / 8;
#endif
        break;
      }
      u += 8;
    }
    while (u < end && *u < 0x80 && *u != '"' && *u != '\\') u++;
#if defined(__SSE2__)
  stopped:
#endif
    if (u < end && *u >= 0x80) {
      size_t k = json_utf8_len(u, (size_t)(end - u));
      if (k == 0) json_fail(d, (const char *)u, "invalid UTF-8 in a string");
      u += k;
      continue;
    }
    return (const char *)u;
  }
}

/* Pushes the string whose opening quote is at d->p, and moves past its closing quote. */
static void json_read_string(struct json_dec *d) {
  const char *start = d->p + 1, *s = json_string_run(d, start);
  luaL_Buffer b;
  if (s < d->end && *s == '"') { /* no escapes: straight from the text */
    lua_pushlstring(d->L, start, (size_t)(s - start));
    d->p = s + 1;
    return;
  }
  luaL_buffinit(d->L, &b);
  for (;;) {
    luaL_addlstring(&b, start, (size_t)(s - start));
    if (s >= d->end) json_fail(d, d->p, "unterminated string");
    if (*s == '"') break;
    start = json_read_escape(d, &b, s);
    s = json_string_run(d, start);
  }
  luaL_pushresult(&b);
  d->p = s + 1;
}

/* Pushes the number at d->p: an integer when the text is one that fits (or when its value is
 * integral and fits, as `1.0` or `2e3`), else a float; a number beyond the float range is an
 * error. */
static void json_read_number(struct json_dec *d) {
  lua_State *L = d->L;
  const char *s = d->p, *p = s, *digits;
  int is_float = 0;
  if (*p == '-') p++;
  digits = p;
  if (p >= d->end || !json_is_digit(*p)) json_fail(d, s, "invalid number");
  if (*p == '0') p++;
  else while (p < d->end && json_is_digit(*p)) p++;
  if (p < d->end && *p == '.') {
    p++;
    if (p >= d->end || !json_is_digit(*p)) json_fail(d, s, "invalid number");
    while (p < d->end && json_is_digit(*p)) p++;
    is_float = 1;
  }
  if (p < d->end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < d->end && (*p == '+' || *p == '-')) p++;
    if (p >= d->end || !json_is_digit(*p)) json_fail(d, s, "invalid number");
    while (p < d->end && json_is_digit(*p)) p++;
    is_float = 1;
  }
  d->p = p;
  if (!is_float && p - digits <= 18) { /* 18 digits cannot overflow 64 bits */
    long long v = 0;
    const char *q;
    for (q = digits; q < p; q++) v = v * 10 + (*q - '0');
    lua_pushinteger(L, (lua_Integer)(*s == '-' ? -v : v));
    return;
  } else {
    /* Lua's own conversion: an integer if the text is one that fits, else the nearest float */
    char tmp[64];
    size_t n = (size_t)(p - s);
    lua_Number x;
    lua_Integer i;
    if (n < sizeof tmp) {
      memcpy(tmp, s, n);
      tmp[n] = '\0';
      if (lua_stringtonumber(L, tmp) == 0) json_fail(d, s, "invalid number");
    } else {
      lua_pushlstring(L, s, n);
      if (lua_stringtonumber(L, lua_tostring(L, -1)) == 0) json_fail(d, s, "invalid number");
      lua_remove(L, -2);
    }
    if (lua_isinteger(L, -1)) return;
    x = lua_tonumber(L, -1);
    /* JSON has no infinity: the encoder could not write this value back. */
    if (isinf(x)) json_fail(d, s, "number out of range");
    /* An integer literal Lua read as a float is outside 64 bits: it stays a float, or
       -9223372036854775809 would round to -2^63 and become that (other) integer. A float
       literal becomes an integer only below 2^53, where the float is exactly that integer: a
       larger one (-2^63 above, written back as -9.2233720368547758e+18) stays the float it
       was, so a decode-encode-decode round trip keeps every number's type. */
    if (is_float && x == floor(x) && fabs(x) < JSON_EXACT_INTEGER && lua_numbertointeger(x, &i)) {
      lua_pop(L, 1);
      lua_pushinteger(L, i);
    }
  }
}

static void json_read_literal(struct json_dec *d, const char *word, size_t n) {
  if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) json_fail(d, d->p, "expected a value");
  d->p += n;
}

static void json_read_value(struct json_dec *d);

static void json_enter(struct json_dec *d) {
  if (++d->depth > JSON_MAX_DEPTH)
    luaL_error(d->L, "arrays and objects nested deeper than %d at byte %d", JSON_MAX_DEPTH,
               (int)(d->p - d->text) + 1);
  luaL_checkstack(d->L, 8, "JSON nesting");
  d->p++; /* the opening bracket */
}

/*
 * Whether the string text at start (just after its opening quote) is the one seen in a slot.
 * Only strings scanned without finding a quote, backslash or bad UTF-8 go in a slot, so the
 * same bytes followed by a quote are that string: the text needs no scan of its own.
 */
static int json_seen_at(const struct json_seen *seen, const char *start, const char *end) {
  return seen->s != NULL && (size_t)(end - start) > seen->len && memcmp(seen->s, start, seen->len) == 0 &&
         start[seen->len] == '"';
}

/*
 * Pushes the object key at d->p (field number n of an object at `depth`). Lists hold objects
 * of one shape, so slot (depth, n) of the key cache remembers the last key read there; when
 * the text matches it, that string is reused and Lua does not hash and look up the key again.
 */
static void json_read_key(struct json_dec *d, int depth, int n) {
  lua_State *L = d->L;
  const char *start = d->p + 1, *s;
  struct json_seen *seen;
  int slot;
  if (depth >= JSON_HINT_DEPTH || n >= JSON_KEY_SLOTS) {
    json_read_string(d);
    return;
  }
  slot = depth * JSON_KEY_SLOTS + n;
  seen = &d->key[slot];
  if (json_seen_at(seen, start, d->end)) {
    lua_rawgeti(L, d->keys, slot + 1);
    d->p = start + seen->len + 1;
    return;
  }
  s = json_string_run(d, start);
  if (s >= d->end || *s != '"') { /* escapes or no end: the general path */
    json_read_string(d);
    return;
  }
  lua_pushlstring(L, start, (size_t)(s - start));
  lua_pushvalue(L, -1);
  lua_rawseti(L, d->keys, slot + 1);
  seen->s = lua_tolstring(L, -1, &seen->len);
  d->p = s + 1;
}

/*
 * Pushes the string value at d->p, field n of an object at `depth`. In a list, a field often
 * holds the same value item after item (the owner's id, a status, timestamps of one batch):
 * when the text matches the value last read in its slot, that string is pushed again, and Lua
 * does not hash and look it up once more. A slot whose values keep changing (ids, addresses)
 * stops being tried after a few misses, so those cost next to nothing extra.
 */
static void json_read_field_string(struct json_dec *d, int depth, int n) {
  lua_State *L = d->L;
  int i = (depth * JSON_KEY_SLOTS + n) % JSON_VALUE_SLOTS;
  struct json_seen *seen = &d->value[i];
  const char *start = d->p + 1, *s;
  if (d->value_misses[i] >= JSON_VALUE_TRIES) {
    json_read_string(d);
    return;
  }
  if (json_seen_at(seen, start, d->end)) {
    lua_pushvalue(L, d->values + i);
    d->p = start + seen->len + 1;
    d->value_misses[i] = 0;
    return;
  }
  d->value_misses[i]++;
  s = json_string_run(d, start);
  if (s >= d->end || *s != '"') { /* escapes or no end: the general path */
    json_read_string(d);
    return;
  }
  lua_pushlstring(L, start, (size_t)(s - start));
  d->p = s + 1;
  if ((size_t)(s - start) > JSON_VALUE_MAX) return; /* not interned: nothing to save */
  lua_pushvalue(L, -1);
  lua_replace(L, d->values + i);
  seen->s = lua_tolstring(L, -1, &seen->len); /* kept alive by its slot on the stack */
}

static void json_read_array(struct json_dec *d) {
  lua_State *L = d->L;
  lua_Integer n = 0;
  int depth;
  json_enter(d);
  json_charge(d, JSON_COST_TABLE);
  depth = d->depth;
  lua_createtable(L, depth < JSON_HINT_DEPTH ? d->hint_array[depth] : 0, 0);
  lua_pushvalue(L, d->array_mt);
  lua_setmetatable(L, -2);
  json_skip_space(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
  } else {
    for (;;) {
      json_read_value(d);
      lua_rawseti(L, -2, ++n);
      json_skip_space(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
      } else if (d->p < d->end && *d->p == ']') {
        d->p++;
        break;
      } else {
        json_fail(d, d->p, d->p < d->end ? "expected ',' or ']'" : "unexpected end of text");
      }
    }
  }
  if (depth < JSON_HINT_DEPTH) d->hint_array[depth] = n < 1024 ? (int)n : 1024;
  d->depth--;
}

/*
 * Whether the null-fields metatable on top of the stack holds exactly the `count` keys at
 * stack indexes first.. (the null keys of the object being read).
 */
static int json_same_nulls(lua_State *L, int first, int count) {
  int i, same;
  lua_rawgetp(L, -1, &json_count_key);
  same = lua_tointeger(L, -1) == count;
  lua_pop(L, 1);
  if (!same) return 0;
  lua_rawgetp(L, -1, &json_nulls_key);
  for (i = 0; i < count && same; i++) {
    lua_pushvalue(L, first + i);
    same = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return same;
}

/*
 * Gives the object at obj, whose `count` null keys are at stack indexes obj+1.., the metatable
 * holding them: the last one made at this depth when it holds the same keys, else a new one.
 * Leaves the stack at obj.
 */
static void json_mark_nulls(struct json_dec *d, int obj, int count, int depth) {
  lua_State *L = d->L;
  int i, first = obj + 1;
  if (depth >= JSON_HINT_DEPTH || lua_rawgeti(L, d->shapes, depth) != LUA_TTABLE ||
      !json_same_nulls(L, first, count)) {
    lua_settop(L, first + count - 1);
    json_charge(d, 2 * JSON_COST_TABLE);
    lua_createtable(L, 0, 2);
    lua_createtable(L, 0, count);
    for (i = 0; i < count; i++) {
      lua_pushvalue(L, first + i);
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
    }
    lua_rawsetp(L, -2, &json_nulls_key);
    lua_pushinteger(L, count);
    lua_rawsetp(L, -2, &json_count_key);
    if (depth < JSON_HINT_DEPTH) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, d->shapes, depth);
    }
  }
  lua_setmetatable(L, obj);
  lua_settop(L, obj);
}

static void json_read_object(struct json_dec *d) {
  lua_State *L = d->L;
  const char *key_at;
  int n = 0, depth, obj, nulls = 0; /* nulls: null keys so far, kept on the stack above obj */
  json_enter(d);
  json_charge(d, JSON_COST_TABLE);
  depth = d->depth;
  lua_createtable(L, 0, depth < JSON_HINT_DEPTH ? d->hint_object[depth] : 0);
  obj = lua_gettop(L);
  json_skip_space(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
  } else {
    for (;;) {
      if (d->p >= d->end || *d->p != '"')
        json_fail(d, d->p, d->p < d->end ? "expected a string key" : "unexpected end of text");
      key_at = d->p;
      json_read_key(d, depth, n);
      json_charge(d, JSON_COST_SLOT + JSON_COST_STRING + (size_t)(d->p - key_at));
      json_skip_space(d);
      if (d->p >= d->end || *d->p != ':')
        json_fail(d, d->p, d->p < d->end ? "expected ':'" : "unexpected end of text");
      d->p++;
      json_skip_space(d);
      if (d->p < d->end && *d->p == '"') {
        const char *at = d->p;
        json_read_field_string(d, depth, n);
        json_charge(d, JSON_COST_SLOT + JSON_COST_STRING + (size_t)(d->p - at));
        lua_rawset(L, obj);
      } else if (d->p < d->end && *d->p == 'n') {
        json_read_literal(d, "null", 4);
        json_charge(d, JSON_COST_SLOT);
        /* the key stays on the stack; the field is cleared, so the last of duplicate keys
           wins as it does for other values */
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, obj);
        nulls++;
        luaL_checkstack(L, 8, "JSON null fields");
      } else {
        json_read_value(d);
        lua_rawset(L, obj);
      }
      n++;
      json_skip_space(d);
      if (d->p < d->end && *d->p == ',') {
        d->p++;
        json_skip_space(d);
      } else if (d->p < d->end && *d->p == '}') {
        d->p++;
        break;
      } else {
        json_fail(d, d->p, d->p < d->end ? "expected ',' or '}'" : "unexpected end of text");
      }
    }
  }
  if (nulls != 0) json_mark_nulls(d, obj, nulls, depth);
  if (depth < JSON_HINT_DEPTH) d->hint_object[depth] = n < 1024 ? n : 1024;
  d->depth--;
}

static void json_read_value(struct json_dec *d) {
  json_skip_space(d);
  if (d->p >= d->end) json_fail(d, d->p, "unexpected end of text");
  json_charge(d, JSON_COST_SLOT);
  switch (*d->p) {
    case '{': json_read_object(d); break;
    case '[': json_read_array(d); break;
    case '"': {
      const char *at = d->p;
      json_read_string(d);
      json_charge(d, JSON_COST_STRING + (size_t)(d->p - at));
      break;
    }
    case 't': json_read_literal(d, "true", 4); lua_pushboolean(d->L, 1); break;
    case 'f': json_read_literal(d, "false", 5); lua_pushboolean(d->L, 0); break;
    case 'n': json_read_literal(d, "null", 4); lua_pushvalue(d->L, d->null); break;
    default:
      if (*d->p == '-' || json_is_digit(*d->p)) json_read_number(d);
      else json_fail(d, d->p, "expected a value");
  }
}

/* Pushes the decoder's caches kept across calls: the null-fields metatables by depth, and the
   key cache (its user value: the key strings). Made at the first decode, not at load: a script
   may never decode. */
static void json_push_caches(lua_State *L) {
  struct json_seen *key;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &json_shapes_key) == LUA_TTABLE) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &json_keys_key);
    return;
  }
  lua_pop(L, 1);
  lua_createtable(L, JSON_HINT_DEPTH, 0);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &json_shapes_key);
  key = lua_newuserdatauv(L, sizeof *key * JSON_HINT_DEPTH * JSON_KEY_SLOTS, 1);
  memset(key, 0, sizeof *key * JSON_HINT_DEPTH * JSON_KEY_SLOTS);
  lua_createtable(L, JSON_HINT_DEPTH * JSON_KEY_SLOTS, 0);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &json_keys_key);
}

/* Protected part of json_decode: [text pointer, length] -> [value]. */
static int json_decode_protected(lua_State *L) {
  struct json_dec d;
  memset(&d, 0, sizeof d);
  d.L = L;
  d.text = d.p = lua_touserdata(L, 1);
  d.end = d.text + (size_t)lua_tointeger(L, 2);
  d.max_cost = lua_toboolean(L, 3) ? http_max_response_bytes(L) : (size_t)-1;
  luaL_getmetatable(L, JSON_ARRAY_MT);
  d.array_mt = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_null_key);
  d.null = lua_gettop(L);
  json_push_caches(L);
  d.shapes = lua_gettop(L) - 1;
  d.key = lua_touserdata(L, -1);
  lua_getiuservalue(L, -1, 1);
  d.keys = lua_gettop(L);
  luaL_checkstack(L, JSON_VALUE_SLOTS + 8, "JSON decoding");
  d.values = lua_gettop(L) + 1;
  lua_settop(L, d.values + JSON_VALUE_SLOTS - 1); /* the value slots, nil */
  json_read_value(&d);
  json_skip_space(&d);
  if (d.p < d.end) json_fail(&d, d.p, "unexpected text after the value");
  return 1;
}

/* bounded: the values made may take at most the state's budget for answers (src/http.h). */
static int json_decode_text(lua_State *L, const char *text, size_t len, int bounded) {
  int status;
  lua_pushcfunction(L, json_decode_protected);
  lua_pushlightuserdata(L, (void *)text); /* the text stays where it is: no copy */
  lua_pushinteger(L, (lua_Integer)len);
  lua_pushboolean(L, bounded);
  status = lua_pcall(L, 3, 1, 0);
  if (status == LUA_OK) return 1;
  if (status == LUA_ERRMEM) lua_error(L);
  if (lua_type(L, -1) != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "invalid JSON");
  }
  return 0;
}

int json_decode(lua_State *L, const char *text, size_t len) { return json_decode_text(L, text, len, 1); }

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
    /* A float from 2^53 up written without a point or an exponent would come back an integer
       (the decoder's rule, json_read_number): ".0" keeps it a float. */
    if (fabs(x) >= JSON_EXACT_INTEGER && strpbrk(num, ".e") == NULL && n + 2 < (int)sizeof num) {
      memcpy(num + n, ".0", 3);
      n += 2;
    }
  }
  buf_add(L, o, num, (size_t)n);
}

/* Length of the table at idx when it is a sequence 1..n without other keys, else -1. */
static lua_Integer json_array_length(lua_State *L, int idx) {
  lua_Integer count = 0, max = 0;
  int marked = 0;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    /* any value can be a __name: only the string JSON_ARRAY_MT marks an array */
    marked = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), JSON_ARRAY_MT) == 0;
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      /* a marked array with another key would lose it silently: say so instead */
      if (marked)
        luaL_error(L, "cannot encode a JSON array (telnyx.json.array) that has the key '%s'",
                   luaL_tolstring(L, -1, NULL));
      lua_pop(L, 1);
      return -1;
    }
    if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
    count++;
  }
  if (marked && max != count)
    luaL_error(L, "cannot encode a JSON array (telnyx.json.array) with a hole before item %d",
               (int)max);
  return (marked || (count > 0 && max == count)) ? count : -1;
}

/* What every level of an encoding needs: the output, and the stack index of telnyx.null. */
struct json_enc {
  struct buf *o;
  int null;
};

/* Pushes the set of the null keys of a decoded object at idx and returns 1, or pushes
   nothing and returns 0 (any other table). */
static int json_push_nulls(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  if (lua_rawgetp(L, -1, &json_nulls_key) != LUA_TTABLE) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

static void json_put_value(lua_State *L, struct json_enc *e, int idx, int depth);

/* Writes `,"key":null` (no comma before the first field) for the key on top of the stack when
   the object at idx holds no value for it now; pops the key. */
static void json_put_null_field(lua_State *L, struct json_enc *e, int idx, int *first) {
  size_t klen;
  const char *key;
  lua_pushvalue(L, -1);
  if (lua_rawget(L, idx) != LUA_TNIL || lua_type(L, -2) != LUA_TSTRING) {
    lua_pop(L, 2);
    return;
  }
  lua_pop(L, 1);
  key = lua_tolstring(L, -1, &klen);
  if (!*first) buf_add_literal(L, e->o, ",");
  *first = 0;
  json_put_string(L, e->o, key, klen);
  buf_add_literal(L, e->o, ":null");
  lua_pop(L, 1);
}

static void json_put_table(lua_State *L, struct json_enc *e, int idx, int depth) {
  struct buf *o = e->o;
  lua_Integer n, i;
  int first = 1, nulls;
  if (depth > JSON_MAX_DEPTH) luaL_error(L, "cannot encode tables nested deeper than %d (a cycle?)", JSON_MAX_DEPTH);
  luaL_checkstack(L, 6, "JSON nesting");
  nulls = json_push_nulls(L, idx) ? lua_gettop(L) : 0; /* a decoded object's null fields */
  n = nulls ? -1 : json_array_length(L, idx);
  if (n >= 0) {
    buf_add_literal(L, o, "[");
    for (i = 1; i <= n; i++) {
      if (i > 1) buf_add_literal(L, o, ",");
      lua_rawgeti(L, idx, i);
      json_put_value(L, e, lua_gettop(L), depth + 1);
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
    json_put_value(L, e, lua_gettop(L), depth + 1);
    lua_pop(L, 1);
  }
  if (nulls != 0) { /* the null fields that have not been given a value since */
    lua_pushnil(L);
    while (lua_next(L, nulls) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      json_put_null_field(L, e, idx, &first);
    }
    lua_pop(L, 1);
  }
  buf_add_literal(L, o, "}");
}

static void json_put_value(lua_State *L, struct json_enc *e, int idx, int depth) {
  struct buf *o = e->o;
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
      json_put_table(L, e, idx, depth);
      break;
    case LUA_TUSERDATA:
      if (lua_rawequal(L, idx, e->null)) { /* telnyx.null */
        buf_add_literal(L, o, "null");
        break;
      }
      goto unknown;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, idx) == NULL) { /* lua-cjson's null, taken as telnyx.null */
        buf_add_literal(L, o, "null");
        break;
      }
      /* fall through */
    default:
    unknown:
      luaL_error(L, "cannot encode a %s value as JSON", luaL_typename(L, idx));
  }
}

void json_encode(lua_State *L, int idx) {
  struct json_enc e;
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &json_null_key);
  e.null = lua_gettop(L);
  e.o = buf_new(L);
  json_put_value(L, &e, idx, 0);
  buf_push_result(L, -1);
  lua_replace(L, e.null); /* the text in place of telnyx.null */
}

void json_push_null(lua_State *L) { lua_rawgetp(L, LUA_REGISTRYINDEX, &json_null_key); }

/* ---- the telnyx.json table ---- */

static int json_l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  json_encode(L, 1);
  return 1;
}

static int json_l_decode(lua_State *L) {
  size_t len;
  const char *text = luaL_checklstring(L, 1, &len);
  /* Text the script holds already, a file say: bounded by its memory, not the answers' budget. */
  if (!json_decode_text(L, text, len, 0)) return luaL_error(L, "invalid JSON: %s", lua_tostring(L, -1));
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

/* telnyx.json.nulls(t) -> an array of the fields of t that were JSON null when t was decoded
   and hold no value now (pairs does not show them), in no particular order. */
static int json_l_nulls(lua_State *L) {
  lua_Integer n = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_newtable(L);
  if (json_push_nulls(L, 1)) {
    lua_pushnil(L);
    while (lua_next(L, 3) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, 1) == LUA_TNIL) {
        lua_pushvalue(L, -2);
        lua_rawseti(L, 2, ++n);
      }
      lua_pop(L, 1);
    }
  }
  lua_settop(L, 2);
  return 1;
}

static int json_null_tostring(lua_State *L) {
  lua_pushliteral(L, "null");
  return 1;
}

void json_open(lua_State *L) {
  static const luaL_Reg funcs[] = {{"encode", json_l_encode}, {"decode", json_l_decode},
                                   {"array", json_l_array},   {"nulls", json_l_nulls},
                                   {NULL, NULL}};
  if (luaL_newmetatable(L, JSON_ARRAY_MT)) {
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
  }
  lua_pop(L, 1);
  /* telnyx.null: one value per state (a second require keeps it), a userdata of its own, so
     that it prints as null and an error indexing it names it; the light userdata NULL
     (lua-cjson's null) would share its metatable with every light userdata. */
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &json_null_key) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, 0, 0);
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "telnyx.null");
    lua_setfield(L, -2, "__name");
    lua_pushcfunction(L, json_null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &json_null_key);
  }
  luaL_newlib(L, funcs);
  lua_rotate(L, -2, 1);
  lua_setfield(L, -2, "null");
}
