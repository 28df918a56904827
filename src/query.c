/* Query strings and path segments, encoded as the official SDKs do. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "query.h"

#define QUERY_MAX_DEPTH 8 /* filter[cidr_block][contains] is 3 deep; more is a mistake */

static int query_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

void query_add_escaped(lua_State *L, struct buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i, run = 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[3];
    if (query_unreserved(c)) continue;
    buf_add(L, b, s + run, i - run);
    esc[0] = '%';
    esc[1] = hex[c >> 4];
    esc[2] = hex[c & 15];
    buf_add(L, b, esc, 3);
    run = i + 1;
  }
  buf_add(L, b, s + run, n - run);
}

/* Whether s[0..n) spells a dot segment, "." or "..", with any of its dots written %2E or %2e:
   servers decode unreserved escapes before resolving dot segments (RFC 3986, 6.2.2.2). */
static int query_is_dot_segment(const char *s, size_t n) {
  size_t dots = 0, i = 0;
  while (i < n) {
    if (s[i] == '.') {
      i++;
    } else if (n - i >= 3 && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E')) {
      i += 3;
    } else {
      return 0;
    }
    dots++;
  }
  return dots == 1 || dots == 2;
}

void query_add_path_segment(lua_State *L, struct buf *b, const char *s, size_t n) {
  /* "." and ".." cannot be sent: as they are a server resolves them, and encoded (%2E) a
     server may decode them first. No resource has such an id, so it is refused. (An id is
     raw text: "%2e" in it is sent as %252e, which no server reads as a dot.) */
  if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
    luaL_error(L, "an id cannot be '%s': '.' and '..' are dot segments, which would leave the "
               "resource's path", n == 1 ? "." : "..");
  query_add_escaped(L, b, s, n);
}

const char *query_find_dot_segment(const char *path, size_t n) {
  size_t start = 0, i;
  for (i = 0; i <= n; i++) {
    if (i == n || path[i] == '/') {
      if (query_is_dot_segment(path + start, i - start)) return path + start;
      start = i + 1;
    }
  }
  return NULL;
}

/* Pushes the text form of a scalar query value at idx; `what` names it in errors. */
static void query_push_scalar(lua_State *L, int idx, const char *what) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      lua_pushvalue(L, idx);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
      else
        lua_pushfstring(L, "%s", lua_tostring(L, idx)); /* tostring gives %.14g */
      break;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
      break;
    default:
      luaL_error(L, "query parameter '%s' cannot be a %s", what, luaL_typename(L, idx));
  }
}

/* Pushes the comma-joined text of the array at idx. */
static void query_push_joined(lua_State *L, int idx, const char *what) {
  luaL_Buffer b;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, idx);
  luaL_buffinit(L, &b);
  for (i = 1; i <= n; i++) {
    if (i > 1) luaL_addchar(&b, ',');
    lua_rawgeti(L, idx, i);
    query_push_scalar(L, lua_gettop(L), what);
    lua_remove(L, -2);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
}

/* A table is an array of values when it has items 1..n and n > 0. */
static int query_is_array(lua_State *L, int idx) {
  return lua_rawlen(L, idx) > 0;
}

/* Flattens the table at idx into out[name] = text, names built on prefix (or none). */
static void query_flatten(lua_State *L, int idx, int out, const char *prefix, int depth) {
  if (depth > QUERY_MAX_DEPTH) luaL_error(L, "query parameters nested too deep at '%s'", prefix);
  luaL_checkstack(L, 6, "query nesting");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *name;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "query parameter names must be strings, got a %s key%s%s",
                 luaL_typename(L, -2), prefix ? " in " : "", prefix ? prefix : "");
    if (memchr(lua_tostring(L, -2), '\0', lua_rawlen(L, -2)) != NULL) /* names are C strings */
      luaL_error(L, "query parameter names must not contain NUL bytes%s%s", prefix ? " (in " : "",
                 prefix ? lua_pushfstring(L, "%s)", prefix) : "");
    name = prefix ? lua_pushfstring(L, "%s[%s]", prefix, lua_tostring(L, -2))
                  : lua_pushstring(L, lua_tostring(L, -2));
    if (lua_type(L, -2) == LUA_TTABLE && !query_is_array(L, -2)) {
      query_flatten(L, lua_absindex(L, -2), out, name, depth + 1);
      lua_pop(L, 1);
    } else {
      if (lua_type(L, -2) == LUA_TTABLE)
        query_push_joined(L, lua_absindex(L, -2), name);
      else
        query_push_scalar(L, lua_absindex(L, -2), name);
      lua_rawset(L, out);
    }
    lua_pop(L, 1);
  }
}

static int query_compare(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void query_add_table(lua_State *L, struct buf *b, int idx) {
  int out, first = 1;
  size_t n = 0, i;
  const char **names;
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  out = lua_gettop(L);
  query_flatten(L, idx, out, NULL, 0);
  lua_pushnil(L);
  while (lua_next(L, out) != 0) {
    lua_pop(L, 1);
    n++;
  }
  /* The names stay anchored in `out` while sorted; a userdata owns the array. */
  names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names, 0);
  lua_pushnil(L);
  for (i = 0; lua_next(L, out) != 0; i++) {
    names[i] = lua_tostring(L, -2);
    lua_pop(L, 1);
  }
  qsort(names, n, sizeof *names, query_compare);
  for (i = 0; i < n; i++) {
    size_t vlen;
    const char *v;
    lua_getfield(L, out, names[i]);
    v = lua_tolstring(L, -1, &vlen);
    if (!first) buf_add_char(L, b, '&');
    first = 0;
    query_add_escaped(L, b, names[i], strlen(names[i]));
    buf_add_char(L, b, '=');
    query_add_escaped(L, b, v, vlen);
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}
