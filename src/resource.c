/*
 * Resources are data: each operation of the table generated from the OpenAPI file
 * (lua/telnyx/resources.lua) becomes a method, a C closure over its entry, so one generic
 * path serves every endpoint. Here: the operation tables, the Resource object and its
 * __index (an unknown name raises, with the nearest valid one), the binding of a method's
 * arguments, their check against the spec by lua/telnyx/check.lua, the templating of the path,
 * and telnyx.describe for the REPL.
 */
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "body.h"
#include "buf.h"
#include "call.h"
#include "client.h"
#include "json.h"
#include "pager.h"
#include "query.h"
#include "resource.h"

/* Resource user values. */
enum { RESOURCE_UV_CLIENT = 1, RESOURCE_UV_NAME, RESOURCE_NUV = RESOURCE_UV_NAME };

static const char resource_ops_key = 'o';   /* registry: the operation tables, built on first use */
static const char resource_check_key = 'c'; /* registry: lua/telnyx/check.lua's module */

/* ---- the operation tables ---- */

/*
 * Pushes the registry table of the API, made at the first resource access from the small index
 * alone (telnyx.resources): {index = {[resource] = {module=, methods=}}, methods = {[resource] =
 * {[name] = closure}}, loaded = {[module] = true}, op_of = {[closure] = op} (weak keys)}.
 * A top-level module's operations (telnyx.api.<top>) are loaded, and their closures made, at
 * the first access to a resource under it (resource_push_methods), so the whole API costs
 * nothing at start.
 */
static int resource_op_call(lua_State *L);

static void resource_push_ops(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &resource_ops_key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  luaL_checkstack(L, 6, "operation tables");
  lua_createtable(L, 0, 4);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx.resources");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "resources");
  lua_setfield(L, -3, "index");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setfield(L, -2, "methods");
  lua_newtable(L);
  lua_setfield(L, -2, "loaded");
  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "op_of");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &resource_ops_key);
}

/* Loads telnyx.api.<module> (the string at module_idx) into the tables at ops_idx: a closure
   over each operation in methods[resource][method], and op_of[closure] = op. */
static void resource_load_module(lua_State *L, int ops_idx, int module_idx) {
  int methods, op_of, list;
  lua_Integer i, n;
  luaL_checkstack(L, 10, "operation tables");
  lua_getfield(L, ops_idx, "methods");
  methods = lua_gettop(L);
  lua_getfield(L, ops_idx, "op_of");
  op_of = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushfstring(L, "telnyx.api.%s", lua_tostring(L, module_idx));
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "operations");
  list = lua_gettop(L);
  n = lua_istable(L, list) ? (lua_Integer)lua_rawlen(L, list) : 0;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lua_getfield(L, -1, "resource");
    if (lua_rawget(L, methods) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_getfield(L, -2, "resource");
      lua_pushvalue(L, -2);
      lua_rawset(L, methods);
    }
    lua_getfield(L, -2, "method");
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, resource_op_call, 1);
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -5);
    lua_rawset(L, op_of); /* op_of[closure] = op */
    lua_rawset(L, -3);    /* methods[resource][method] = closure */
    lua_pop(L, 2);
  }
  lua_getfield(L, ops_idx, "loaded");
  lua_pushvalue(L, module_idx);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_settop(L, methods - 1);
}

/* Pushes {[method] = closure} of the resource `name` (loading its top-level module on first
   use), or nil when it has no methods of its own. */
static void resource_push_methods(lua_State *L, const char *name) {
  int ops;
  resource_push_ops(L);
  ops = lua_gettop(L);
  lua_getfield(L, ops, "methods");
  if (lua_getfield(L, -1, name) != LUA_TTABLE) {
    lua_settop(L, ops);
    lua_getfield(L, ops, "index");
    if (lua_getfield(L, -1, name) == LUA_TTABLE && lua_getfield(L, -1, "module") == LUA_TSTRING) {
      lua_getfield(L, ops, "loaded");
      lua_pushvalue(L, -2);
      if (lua_rawget(L, -2) == LUA_TNIL) resource_load_module(L, ops, ops + 3);
    }
    lua_settop(L, ops);
    lua_getfield(L, ops, "methods");
    lua_getfield(L, -1, name);
  }
  lua_replace(L, ops);
  lua_settop(L, ops);
}


/* ---- the checker, and unknown names ---- */

/*
 * Pushes the checker, lua/telnyx/check.lua, loaded at the first call or the first unknown name
 * rather than by require "telnyx", so a start that makes no call does not compile it.
 */
static void resource_push_checker(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &resource_check_key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  luaL_checkstack(L, 4, "the call checker");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx.check");
  lua_call(L, 1, 1);
  json_push_null(L);
  lua_setfield(L, -2, "null");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &resource_check_key);
}

/* Raises, naming the method and the parameter, when the call's params (0: none) break the
   operation's entry: what is sent is checked from the same table that drives the call. */
static void resource_check_call(lua_State *L, int op_idx, int params_idx) {
  resource_push_checker(L);
  lua_getfield(L, -1, "check");
  lua_pushvalue(L, op_idx);
  if (params_idx)
    lua_pushvalue(L, params_idx);
  else
    lua_pushnil(L);
  lua_call(L, 2, 0);
  lua_pop(L, 1);
}

/* Adds the keys of the table at src (when it is one) to the table at dst, as keys. */
static void resource_add_names(lua_State *L, int src, int dst) {
  if (!lua_istable(L, src)) return;
  lua_pushnil(L);
  while (lua_next(L, src) != 0) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, dst);
  }
}

/*
 * Raises the one-line error of an unknown name `key` indexed on the resource `resource`, or on
 * the client when it is NULL (then extra_idx, when not 0, is a table whose keys are the client's
 * own fields), with the nearest valid name: the resource's methods and children, or the
 * top-level resources.
 */
static int resource_unknown(lua_State *L, const char *resource, int key_idx, int extra_idx) {
  int names, index;
  size_t len = resource ? strlen(resource) : 0;
  key_idx = lua_absindex(L, key_idx);
  luaL_checkstack(L, 8, "an unknown name");
  lua_newtable(L);
  names = lua_gettop(L);
  if (resource != NULL) {
    resource_push_methods(L, resource);
    resource_add_names(L, lua_gettop(L), names);
  } else if (extra_idx) {
    resource_add_names(L, extra_idx, names);
  }
  resource_push_ops(L);
  lua_getfield(L, -1, "index");
  index = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    const char *k = lua_tostring(L, -2); /* the index's keys are strings: no conversion */
    lua_pop(L, 1);
    if (resource == NULL ? strchr(k, '.') == NULL
                         : strncmp(k, resource, len) == 0 && k[len] == '.' && strchr(k + len + 1, '.') == NULL) {
      lua_pushstring(L, resource ? k + len + 1 : k);
      lua_pushboolean(L, 1);
      lua_rawset(L, names);
    }
  }
  lua_settop(L, names);
  resource_push_checker(L);
  lua_getfield(L, -1, "index_error");
  if (resource == NULL)
    lua_pushnil(L);
  else
    lua_pushstring(L, resource);
  lua_pushvalue(L, key_idx);
  lua_pushvalue(L, names);
  lua_call(L, 3, 0);
  return 0; /* not reached: index_error raises */
}

/* ---- the Resource object ---- */

/* Whether `name` is a resource (has methods) or a parent of one. */
static int resource_exists(lua_State *L, const char *name) {
  int found;
  resource_push_ops(L);
  lua_getfield(L, -1, "index");
  found = lua_getfield(L, -1, name) != LUA_TNIL;
  lua_pop(L, 3);
  return found;
}

/* Pushes the resource object `name` of the client at client_idx, cached per client. */
static void resource_push(lua_State *L, int client_idx, const char *name) {
  lua_getiuservalue(L, client_idx, CLIENT_UV_RESOURCES);
  if (lua_getfield(L, -1, name) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, 1, RESOURCE_NUV);
    luaL_setmetatable(L, RESOURCE_MT);
    lua_pushvalue(L, client_idx);
    lua_setiuservalue(L, -2, RESOURCE_UV_CLIENT);
    lua_pushstring(L, name);
    lua_setiuservalue(L, -2, RESOURCE_UV_NAME);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
  }
  lua_remove(L, -2);
}

/* resource:<method> and resource.<child> */
static int resource_index(lua_State *L) {
  const char *name, *key, *child;
  luaL_checkudata(L, 1, RESOURCE_MT);
  key = luaL_checkstring(L, 2);
  lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
  name = lua_tostring(L, -1);
  resource_push_methods(L, name);
  if (lua_istable(L, -1) && lua_getfield(L, -1, key) != LUA_TNIL) return 1;
  lua_settop(L, 3);
  child = lua_pushfstring(L, "%s.%s", name, key);
  if (resource_exists(L, child)) {
    lua_getiuservalue(L, 1, RESOURCE_UV_CLIENT);
    client_check(L, -1);
    resource_push(L, lua_gettop(L), child);
    return 1;
  }
  return resource_unknown(L, name, 2, 0);
}

static int resource_tostring(lua_State *L) {
  luaL_checkudata(L, 1, RESOURCE_MT);
  lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
  lua_pushfstring(L, "telnyx.Resource (%s)", lua_tostring(L, -1));
  return 1;
}

/* ---- operations ---- */

/* "access_ip_address:create" for messages. */
static const char *resource_op_name(lua_State *L, int op_idx) {
  lua_getfield(L, op_idx, "resource");
  lua_getfield(L, op_idx, "method");
  lua_pushfstring(L, "%s:%s", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
  return lua_tostring(L, -1);
}

/*
 * What an operation takes, read from its entry (scripts/build/TABLE.md). Strings point into
 * the entry, which outlives the call.
 */
struct resource_shape {
  const char *positional;   /* NULL: none */
  const char *pagination;   /* NULL: not a list */
  const char *content_type; /* the body's; NULL: no body */
  int npath, nquery, nheaders, has_body, body_optional, takes_params;
  int body_whole; /* raw bytes or a JSON array: the body is params.body, not params' fields
                     (the rule of telnyx.operations.whole_body, for the checker and help) */
};

/* The length of the array field `name` of the table on top, or -1 when it is not a table. */
static int resource_field_len(lua_State *L, const char *name) {
  int n = lua_getfield(L, -1, name) == LUA_TTABLE ? (int)lua_rawlen(L, -1) : -1;
  lua_pop(L, 1);
  return n;
}

static void resource_read_shape(lua_State *L, int op_idx, struct resource_shape *sh) {
  lua_pushvalue(L, op_idx);
  lua_getfield(L, -1, "positional");
  sh->positional = lua_tostring(L, -1);
  lua_pop(L, 1);
  sh->npath = resource_field_len(L, "path_params");
  if (sh->npath < 0) sh->npath = 0;
  sh->nquery = resource_field_len(L, "query");
  sh->nheaders = resource_field_len(L, "headers");
  if (sh->nquery < 0) sh->nquery = 0;
  if (sh->nheaders < 0) sh->nheaders = 0;
  lua_getfield(L, -1, "pagination");
  sh->pagination = lua_tostring(L, -1);
  lua_pop(L, 1);
  sh->has_body = lua_getfield(L, -1, "body") == LUA_TTABLE;
  sh->content_type = NULL;
  sh->body_optional = sh->body_whole = 0;
  if (sh->has_body) {
    lua_getfield(L, -1, "content_type");
    sh->content_type = lua_isstring(L, -1) ? lua_tostring(L, -1) : "application/json";
    lua_getfield(L, -2, "optional");
    sh->body_optional = lua_toboolean(L, -1);
    lua_getfield(L, -3, "type");
    sh->body_whole = body_kind_of(sh->content_type) == BODY_OCTET ||
                     (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "array") == 0);
    lua_pop(L, 3);
  }
  lua_pop(L, 2);
  /* No params slot only when there is nothing at all to put in it. */
  sh->takes_params = sh->has_body || sh->pagination != NULL || sh->nquery > 0 || sh->nheaders > 0 ||
                     sh->npath > (sh->positional != NULL);
}

/*
 * Pushes the operation's path with each {name} replaced by its encoded value: the positional
 * argument at id_idx for the positional parameter, else params[name].
 */
static void resource_push_path(lua_State *L, int op_idx, const struct resource_shape *sh, int id_idx,
                               int params_idx) {
  struct buf *b;
  const char *p, *open, *close;
  lua_getfield(L, op_idx, "path");
  p = lua_tostring(L, -1);
  b = buf_new(L);
  while ((open = strchr(p, '{')) != NULL && (close = strchr(open, '}')) != NULL) {
    size_t n, nlen = (size_t)(close - open - 1);
    const char *v;
    buf_add(L, b, p, (size_t)(open - p));
    if (sh->positional != NULL && strlen(sh->positional) == nlen && strncmp(sh->positional, open + 1, nlen) == 0) {
      lua_pushvalue(L, id_idx);
    } else {
      const char *name = lua_pushlstring(L, open + 1, nlen);
      int t = params_idx && lua_istable(L, params_idx) ? lua_getfield(L, params_idx, name) : (lua_pushnil(L), LUA_TNIL);
      if (t != LUA_TSTRING || lua_rawlen(L, -1) == 0) {
        const char *op = resource_op_name(L, op_idx);
        if (t == LUA_TNIL) luaL_error(L, "%s: missing path parameter '%s' (a key of params)", op, name);
        luaL_error(L, "%s: path parameter '%s' must be a non-empty string, got %s", op, name,
                   t == LUA_TSTRING ? "an empty string" : lua_typename(L, t));
      }
      lua_remove(L, -2);
    }
    v = lua_tolstring(L, -1, &n);
    query_add_path_segment(L, b, v, n);
    lua_pop(L, 1);
    p = close + 1;
  }
  buf_add_string(L, b, p);
  buf_push_result(L, -1);
  lua_remove(L, -2);
}

/* Whether the string at key_idx is the name of an entry of the array field `list` of the op;
   `match` compares (key, declared name). */
static int resource_declares(lua_State *L, int op_idx, const char *list, int key_idx,
                             int (*match)(const char *, size_t, const char *)) {
  size_t klen;
  const char *key = lua_tolstring(L, key_idx, &klen);
  lua_Integer i, n;
  int found = 0;
  if (lua_getfield(L, op_idx, list) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 1; i <= n && !found; i++) {
    if (lua_rawgeti(L, -1, i) == LUA_TTABLE) lua_getfield(L, -1, "name");
    else lua_pushvalue(L, -1); /* path_params: an array of names */
    if (lua_type(L, -1) == LUA_TSTRING) found = match(key, klen, lua_tostring(L, -1));
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return found;
}

static int resource_match_name(const char *key, size_t klen, const char *name) {
  return strlen(name) == klen && memcmp(key, name, klen) == 0;
}

/* A query parameter's key: its wire name ("filter[ip_address]") or its first part ("filter"). */
static int resource_match_query(const char *key, size_t klen, const char *name) {
  return strncmp(name, key, klen) == 0 && (name[klen] == '\0' || name[klen] == '[') && strlen(key) == klen;
}

/* A header's key in params: its name lower-cased, '-' as '_' ("Idempotency-Key" is
   idempotency_key), as the official Python SDK's keyword argument. */
static int resource_match_header(const char *key, size_t klen, const char *name) {
  size_t i;
  int snake = 1;
  if (strlen(name) != klen) return 0;
  /* The spec's spelling ("Idempotency-Key") is taken too, as the checker takes it. */
  if (memcmp(key, name, klen) == 0) return 1;
  for (i = 0; i < klen && snake; i++) {
    char c = name[i] == '-' ? '_' : (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    snake = key[i] == c;
  }
  return snake;
}

/* Pushes the declared header name (as the spec spells it) whose params key is at key_idx. */
static void resource_push_header_name(lua_State *L, int op_idx, int key_idx) {
  size_t klen;
  const char *key = lua_tolstring(L, key_idx, &klen);
  lua_Integer i, n;
  lua_getfield(L, op_idx, "headers");
  n = (lua_Integer)lua_rawlen(L, -1);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "name");
    if (resource_match_header(key, klen, lua_tostring(L, -1))) {
      lua_replace(L, -3);
      lua_pop(L, 1);
      return;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

/* Where the parts of a call go, as stack indices (0: none). */
struct resource_parts { int query, body, headers; };

/*
 * Splits params into what is sent: path parameters leave (they are in the path), declared
 * headers go to the headers, and for an operation with a body, the declared query parameters
 * to the query and the rest to the body (a body that comes whole, raw bytes or a JSON array, is
 * params.body; raw bytes may also be params itself, a string or a telnyx.file). Pushes the
 * tables it makes; params is never changed.
 */
static void resource_split(lua_State *L, int op_idx, const struct resource_shape *sh, int params_idx,
                           struct resource_parts *out) {
  int whole = sh->body_whole, whole_given = 0;
  out->query = out->body = out->headers = 0;
  if (params_idx == 0) return;
  if (!lua_istable(L, params_idx)) { /* a raw body given in the params slot */
    out->body = params_idx;
    return;
  }
  if (sh->npath <= (sh->positional != NULL) && sh->nheaders == 0 && !whole && !(sh->has_body && sh->nquery > 0)) {
    if (sh->has_body) out->body = params_idx;
    else out->query = params_idx;
    return;
  }
  luaL_checkstack(L, 8, "splitting params");
  lua_newtable(L);
  out->query = lua_gettop(L);
  lua_newtable(L);
  out->body = lua_gettop(L);
  lua_newtable(L);
  out->headers = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, params_idx) != 0) {
    int key = lua_gettop(L) - 1, dst;
    if (lua_type(L, key) != LUA_TSTRING) {
      dst = sh->has_body ? out->body : out->query; /* the encoders name the bad key */
    } else if (resource_declares(L, op_idx, "path_params", key, resource_match_name) ||
               (sh->positional && strcmp(lua_tostring(L, key), sh->positional) == 0)) {
      lua_pop(L, 1);
      continue;
    } else if (sh->nheaders > 0 && resource_declares(L, op_idx, "headers", key, resource_match_header)) {
      if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "%s: header parameter '%s' must be a string, got %s", resource_op_name(L, op_idx),
                   lua_tostring(L, key), luaL_typename(L, -1));
      resource_push_header_name(L, op_idx, key);
      lua_pushstring(L, lua_tostring(L, -2));
      lua_rawset(L, out->headers);
      lua_pop(L, 1);
      continue;
    } else if (whole && strcmp(lua_tostring(L, key), "body") == 0) {
      lua_replace(L, out->body); /* the body given whole replaces the table */
      whole_given = 1;
      continue;
    } else if (!sh->has_body ||
               (resource_declares(L, op_idx, "query", key, resource_match_query) &&
                !(lua_getfield(L, op_idx, "body") == LUA_TTABLE &&
                  resource_declares(L, lua_gettop(L), "fields", key, resource_match_name)))) {
      if (sh->has_body) lua_pop(L, 1); /* the body entry */
      dst = out->query;
    } else {
      if (sh->has_body && lua_gettop(L) > key + 1) lua_pop(L, 1); /* the body entry */
      dst = out->body;
    }
    if (lua_istable(L, dst)) {
      lua_pushvalue(L, key);
      lua_pushvalue(L, key + 1);
      lua_rawset(L, dst);
    }
    lua_settop(L, key);
  }
  if (!sh->has_body) out->body = 0;
  if (whole && !whole_given) out->body = 0; /* none given */
}

/* Raises when a required declared header is given neither in params nor in opts' headers. */
static void resource_check_headers(lua_State *L, int op_idx, int headers_idx, int opts_idx) {
  static const char *const sources[] = {"headers", "extra_headers"};
  lua_Integer i, n;
  lua_getfield(L, op_idx, "headers");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    const char *name;
    int found = 0, s;
    lua_rawgeti(L, -1, i);
    lua_getfield(L, -1, "required");
    lua_getfield(L, -2, "name");
    name = lua_tostring(L, -1);
    if (!lua_toboolean(L, -2) || name == NULL) {
      lua_pop(L, 3);
      continue;
    }
    if (headers_idx && lua_getfield(L, headers_idx, name) != LUA_TNIL) found = 1;
    if (headers_idx) lua_pop(L, 1);
    for (s = 0; s < 2 && !found && opts_idx; s++) {
      if (lua_getfield(L, opts_idx, sources[s]) == LUA_TTABLE) {
        lua_pushnil(L);
        while (!found && lua_next(L, -2) != 0) {
          found = lua_type(L, -2) == LUA_TSTRING && strcasecmp(lua_tostring(L, -2), name) == 0;
          lua_pop(L, found ? 2 : 1);
        }
      }
      lua_pop(L, 1);
    }
    if (!found) {
      luaL_Buffer b;
      const char *p;
      luaL_buffinit(L, &b);
      for (p = name; *p; p++) luaL_addchar(&b, *p == '-' ? '_' : (*p >= 'A' && *p <= 'Z') ? (char)(*p + 32) : *p);
      luaL_pushresult(&b);
      luaL_error(L, "%s: missing required header '%s' (params.%s or opts.headers)", resource_op_name(L, op_idx),
                 name, lua_tostring(L, -1));
    }
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
}

/* A list: pushes the pager over the operation (nothing is fetched yet). */
static void resource_push_pager(lua_State *L, int op_idx, const struct resource_shape *sh, int client_idx,
                                int path_idx, const struct resource_parts *parts, int opts_idx) {
  lua_createtable(L, 0, 9);
  lua_pushvalue(L, client_idx);
  lua_setfield(L, -2, "client");
  lua_pushvalue(L, path_idx);
  lua_setfield(L, -2, "path");
  lua_pushstring(L, sh->pagination);
  lua_setfield(L, -2, "kind");
  lua_getfield(L, op_idx, "http_method");
  lua_setfield(L, -2, "http_method");
  if (parts->query) {
    lua_pushvalue(L, parts->query);
    lua_setfield(L, -2, "params");
  }
  if (parts->body) {
    lua_pushvalue(L, parts->body);
    lua_setfield(L, -2, "body");
  }
  if (parts->headers) {
    lua_pushvalue(L, parts->headers);
    lua_setfield(L, -2, "headers");
  }
  if (opts_idx) {
    lua_pushvalue(L, opts_idx);
    lua_setfield(L, -2, "opts");
  }
  lua_pushvalue(L, op_idx);
  lua_setfield(L, -2, "op");
  pager_new(L, lua_gettop(L));
}

/*
 * Every operation: r:method([positional_path_param,] [params,] [opts]). The positional path
 * parameter comes first when the operation has one; params when it takes any parameter (its
 * other path parameters, query, body fields, declared headers); then opts. A list returns a
 * pager (and the pager again as the closing value for `for`).
 */
static int resource_op_call(lua_State *L) {
  static const char *const known_opts[] = {"timeout", "max_retries", "headers", "extra_query", "extra_body",
                                           "extra_headers", "output", NULL};
  int op_idx = lua_upvalueindex(1);
  int arg = 2, id_idx = 0, params_idx = 0, opts_idx = 0, client_idx, path_idx;
  struct resource_shape sh;
  struct resource_parts parts;
  struct call_spec spec;
  luaL_checkudata(L, 1, RESOURCE_MT);
  resource_read_shape(L, op_idx, &sh);
  if (sh.positional != NULL) {
    size_t n;
    if (lua_type(L, arg) != LUA_TSTRING || (lua_tolstring(L, arg, &n), n == 0)) {
      const char *name = resource_op_name(L, op_idx); /* pushes: evaluated apart from the call's arguments */
      return luaL_error(L, "%s: %s must be a non-empty string, got %s", name, sh.positional,
                        lua_type(L, arg) == LUA_TSTRING ? "an empty string" : luaL_typename(L, arg));
    }
    id_idx = arg++;
  }
  if (sh.takes_params) {
    int raw_ok = sh.has_body && body_kind_of(sh.content_type) == BODY_OCTET &&
                 (lua_type(L, arg) == LUA_TSTRING || luaL_testudata(L, arg, BODY_FILE_MT));
    if (!lua_isnoneornil(L, arg) && !lua_istable(L, arg) && !raw_ok)
      return luaL_error(L, "%s: params must be a table, got %s", resource_op_name(L, op_idx),
                        luaL_typename(L, arg));
    if (!lua_isnoneornil(L, arg)) params_idx = arg;
    arg++;
  }
  if (!lua_isnoneornil(L, arg)) {
    if (!lua_istable(L, arg))
      return luaL_error(L, "%s: opts must be a table, got %s", resource_op_name(L, op_idx),
                        luaL_typename(L, arg));
    opts_idx = arg;
    client_check_keys(L, opts_idx, known_opts, resource_op_name(L, op_idx));
  }
  lua_settop(L, arg);
  resource_check_call(L, op_idx, params_idx); /* before anything is built or sent */
  resource_push_path(L, op_idx, &sh, id_idx, params_idx);
  path_idx = lua_gettop(L);
  resource_split(L, op_idx, &sh, params_idx, &parts);
  if (sh.nheaders > 0) resource_check_headers(L, op_idx, parts.headers, opts_idx);
  if (sh.has_body && parts.body == 0 && !sh.body_optional && body_kind_of(sh.content_type) != BODY_OCTET) {
    lua_newtable(L); /* the API expects an object even when no field is given */
    parts.body = lua_gettop(L);
  }
  lua_getiuservalue(L, 1, RESOURCE_UV_CLIENT);
  client_idx = lua_gettop(L);
  client_check(L, client_idx);
  if (sh.pagination != NULL) {
    resource_push_pager(L, op_idx, &sh, client_idx, path_idx, &parts, opts_idx);
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, -3);
    return 4;
  }
  memset(&spec, 0, sizeof spec);
  lua_getfield(L, op_idx, "http_method");
  spec.method = lua_tostring(L, -1);
  /* The method string must be static for the call: map it to the client's own names. */
  {
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    int i;
    for (i = 0; methods[i] != NULL; i++)
      if (spec.method != NULL && strcmp(methods[i], spec.method) == 0) break;
    if (methods[i] == NULL)
      return luaL_error(L, "%s: unsupported HTTP method %s", resource_op_name(L, op_idx), spec.method);
    spec.method = methods[i];
  }
  lua_getfield(L, op_idx, "accept");
  spec.accept = lua_isstring(L, -1) ? lua_tostring(L, -1) : "application/json";
  spec.secret_response = strncmp(spec.accept, "text/", 5) == 0;
  lua_getfield(L, op_idx, "response");
  spec.as_is = lua_isstring(L, -1) && (strcmp(lua_tostring(L, -1), "text") == 0 ||
                                       strcmp(lua_tostring(L, -1), "binary") == 0);
  lua_getfield(L, op_idx, "server");
  spec.server = lua_tostring(L, -1);
  spec.path_idx = path_idx;
  spec.query_idx = parts.query;
  spec.body_idx = parts.body;
  spec.headers_idx = parts.headers;
  spec.opts_idx = opts_idx;
  spec.content_type = sh.content_type;
  return call_start(L, client_idx, &spec);
}

/* telnyx._bind_op(op): the method a generated entry `op` would become, for specs of entry
   shapes the generated table does not have yet; call it as f(some_resource, ...). Internal. */
static int resource_bind_op(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushcclosure(L, resource_op_call, 1);
  return 1;
}

void resource_push_bind_op(lua_State *L) { lua_pushcfunction(L, resource_bind_op); }

/* ---- describe, for the REPL ---- */

/* Pushes a copy of the value at idx, nested tables copied too (down to `depth` levels): what
   describe hands out must not be the tables that calls are dispatched and built from. */
static void resource_push_copy(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || depth == 0) {
    lua_pushvalue(L, idx);
    return;
  }
  luaL_checkstack(L, 4, "telnyx.describe");
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pushvalue(L, -2);
    resource_push_copy(L, -2, depth - 1);
    lua_rawset(L, -5);
    lua_pop(L, 1);
  }
}

#define RESOURCE_DESCRIBE_DEPTH 16 /* deeper than any operation table the generator writes */

/* Replaces the index entry at -1 ({module=, methods={...}}) by {[method] = true}. */
static void resource_push_method_set(lua_State *L) {
  lua_Integer i, n;
  lua_getfield(L, -1, "methods");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  lua_createtable(L, 0, (int)n);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -2, i);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* Pushes {[child] = true} for the resources one level under `name`, from the index. */
static void resource_push_children(lua_State *L, const char *name) {
  size_t len = strlen(name);
  lua_newtable(L);
  resource_push_ops(L);
  lua_getfield(L, -1, "index");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strncmp(k, name, len) == 0 && k[len] == '.' && strchr(k + len + 1, '.') == NULL) {
      lua_pushstring(L, k + len + 1);
      lua_pushboolean(L, 1);
      lua_rawset(L, -7);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

/* telnyx.describe(v): {kind=, ...} for a client, resource or method; nil otherwise. A client's
   resources come from the index ({[resource] = {[method] = true}}), so describing it loads no
   operations; a resource's methods are its closures. */
static int resource_describe(lua_State *L) {
  if (luaL_testudata(L, 1, CLIENT_MT)) {
    struct client *c = lua_touserdata(L, 1);
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, "client");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, c->closed ? "(closed)" : c->base_url);
    lua_setfield(L, -2, "base_url");
    lua_newtable(L);
    resource_push_ops(L);
    lua_getfield(L, -1, "index");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      resource_push_method_set(L);
      lua_rawset(L, -6);
    }
    lua_pop(L, 2);
    lua_setfield(L, -2, "resources");
    return 1;
  }
  if (luaL_testudata(L, 1, RESOURCE_MT)) {
    const char *name;
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "resource");
    lua_setfield(L, -2, "kind");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    name = lua_tostring(L, -1);
    lua_setfield(L, -2, "name");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME); /* keeps name alive */
    resource_push_methods(L, name);
    resource_push_copy(L, -1, RESOURCE_DESCRIBE_DEPTH);
    lua_setfield(L, -4, "methods");
    lua_pop(L, 1);
    resource_push_children(L, name);
    lua_setfield(L, -3, "children");
    lua_pop(L, 1);
    return 1;
  }
  if (lua_type(L, 1) == LUA_TFUNCTION) {
    resource_push_ops(L);
    lua_getfield(L, -1, "op_of");
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_createtable(L, 0, 2);
      lua_pushliteral(L, "method");
      lua_setfield(L, -2, "kind");
      resource_push_copy(L, -2, RESOURCE_DESCRIBE_DEPTH);
      lua_setfield(L, -2, "op");
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}

void resource_push_describe(lua_State *L) { lua_pushcfunction(L, resource_describe); }

int resource_lookup(lua_State *L) {
  const char *key = lua_tostring(L, 2);
  if (strchr(key, '.') != NULL || !resource_exists(L, key)) return resource_unknown(L, NULL, 2, 3);
  resource_push(L, 1, key);
  return 1;
}

void resource_open(lua_State *L) {
  static const luaL_Reg resource_meta[] = {{"__index", resource_index}, {"__tostring", resource_tostring},
                                           {NULL, NULL}};
  if (luaL_newmetatable(L, RESOURCE_MT)) luaL_setfuncs(L, resource_meta, 0);
  lua_pop(L, 1);
}
