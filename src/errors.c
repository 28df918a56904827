/* Error objects: tables with a shared metatable, raised for every failed API call. */
#include <string.h>

#include <lauxlib.h>

#include "errors.h"

const char *errors_type_for_status(long status) {
  switch (status) {
    case 400: return "BadRequestError";
    case 401: return "AuthenticationError";
    case 403: return "PermissionDeniedError";
    case 404: return "NotFoundError";
    case 409: return "ConflictError";
    case 422: return "UnprocessableEntityError";
    case 429: return "RateLimitError";
    default: return status >= 500 ? "InternalServerError" : "APIStatusError";
  }
}

void errors_push(lua_State *L, const char *type, long status, const char *message) {
  lua_createtable(L, 0, 10);
  lua_pushstring(L, type);
  lua_setfield(L, -2, "type");
  if (status > 0) {
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
  }
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  lua_newtable(L);
  lua_setfield(L, -2, "errors");
  lua_newtable(L);
  lua_setfield(L, -2, "headers");
  luaL_setmetatable(L, ERRORS_MT);
}

#define ERRORS_MAX_PATH 256 /* bytes of a request's path shown by tostring */

/* The path part of a URL, for one-line messages: "https://h/v2/x?y" -> "/v2/x?y". */
static const char *errors_path_of(const char *url) {
  const char *p = strstr(url, "://");
  if (p == NULL) return url;
  p = strchr(p + 3, '/');
  return p ? p : "/";
}

/* Pushes `sep` and field `name` of the table at 1 when it is a string or number; returns 2 or 0. */
static int errors_push_part(lua_State *L, const char *sep, const char *name) {
  int t = lua_getfield(L, 1, name);
  if (t != LUA_TSTRING && t != LUA_TNUMBER) {
    lua_pop(L, 1);
    return 0;
  }
  if (strcmp(name, "url") == 0) { /* the path, cut short: the line stays readable */
    const char *path = errors_path_of(lua_tostring(L, -1));
    size_t n = strlen(path);
    lua_pushlstring(L, path, n > ERRORS_MAX_PATH ? ERRORS_MAX_PATH : n);
    if (n > ERRORS_MAX_PATH) {
      lua_pushliteral(L, "...");
      lua_concat(L, 2);
    }
  } else {
    lua_pushstring(L, lua_tostring(L, -1));
  }
  lua_remove(L, -2);
  lua_pushstring(L, sep);
  lua_insert(L, -2);
  return 2;
}

/* "NotFoundError: 404 GET /v2/billing_groups/x: Resource not found", one line. */
static int errors_tostring(lua_State *L) {
  int n = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_getfield(L, 1, "type") != LUA_TSTRING) {
    lua_pop(L, 1);
    lua_pushliteral(L, "Error");
  }
  lua_pushliteral(L, ":");
  n += errors_push_part(L, " ", "status");
  n += errors_push_part(L, " ", "method");
  n += errors_push_part(L, " ", "url");
  /* "Type: 404 GET /path: message", or "Type: message" when no request is involved */
  n += errors_push_part(L, n > 0 ? ": " : " ", "message");
  lua_concat(L, n + 2);
  return 1;
}

/* telnyx.is_error(v [, type]) */
static int errors_is_error(lua_State *L) {
  int ok = 0;
  if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, ERRORS_MT);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (ok && !lua_isnoneornil(L, 2)) {
      const char *want = luaL_checkstring(L, 2);
      lua_getfield(L, 1, "type");
      ok = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), want) == 0;
      lua_pop(L, 1);
    }
  }
  lua_pushboolean(L, ok);
  return 1;
}

void errors_open(lua_State *L) {
  if (luaL_newmetatable(L, ERRORS_MT)) {
    lua_pushcfunction(L, errors_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, errors_is_error);
}
