/*
 * Resources are data: each operation of the table generated from the OpenAPI file
 * (lua/telnyx/resources.lua) becomes a method, a C closure over its entry, so one generic
 * path serves every endpoint. Here: the operation tables, the Resource object and its
 * __index (an unknown name raises, with the nearest valid one), the binding of a method's
 * arguments, their check against the spec by lua/telnyx/check.lua, the templating of the path,
 * and telnyx.describe for the REPL.
 */
#include <string.h>

#include <lauxlib.h>

#include "buf.h"
#include "call.h"
#include "client.h"
#include "pager.h"
#include "query.h"
#include "resource.h"

/* Resource user values. */
enum { RESOURCE_UV_CLIENT = 1, RESOURCE_UV_NAME, RESOURCE_NUV = RESOURCE_UV_NAME };

static const char resource_ops_key = 'o';   /* registry: the operation tables, built on first use */
static const char resource_check_key = 'c'; /* registry: lua/telnyx/check.lua's module */

/* ---- the operation tables ---- */

/*
 * Pushes the registry table built from telnyx.resources on first use:
 * {methods = {[resource] = {[name] = closure}}, children = {[resource] = {[child] = true}},
 *  op_of = {[closure] = op}} (weak keys).
 */
static int resource_op_call(lua_State *L);

static void resource_push_ops(lua_State *L) {
  int ops, methods, children, op_of, list;
  lua_Integer i, n;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &resource_ops_key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  luaL_checkstack(L, 12, "operation tables");
  lua_createtable(L, 0, 3);
  ops = lua_gettop(L);
  lua_newtable(L);
  methods = lua_gettop(L);
  lua_newtable(L);
  children = lua_gettop(L);
  lua_newtable(L);
  op_of = lua_gettop(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, op_of);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx.resources");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "operations");
  list = lua_gettop(L);
  n = (lua_Integer)lua_rawlen(L, list);
  for (i = 1; i <= n; i++) {
    const char *resource, *dot;
    lua_rawgeti(L, list, i);
    lua_getfield(L, -1, "resource");
    resource = lua_tostring(L, -1);
    if (lua_getfield(L, methods, resource) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, methods, resource);
    }
    lua_getfield(L, -3, "method");
    lua_pushvalue(L, -4);
    lua_pushcclosure(L, resource_op_call, 1);
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -6);
    lua_rawset(L, op_of); /* op_of[closure] = op */
    lua_rawset(L, -3);    /* methods[resource][method] = closure */
    lua_pop(L, 1);
    /* "addresses.actions" is a child of "addresses": children["addresses"].actions = true */
    for (dot = strchr(resource, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
      lua_pushlstring(L, resource, (size_t)(dot - resource));
      if (lua_rawget(L, children) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushlstring(L, resource, (size_t)(dot - resource));
        lua_pushvalue(L, -2);
        lua_rawset(L, children);
      }
      lua_pushlstring(L, dot + 1, strcspn(dot + 1, "."));
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 2);
  lua_pushvalue(L, methods);
  lua_setfield(L, ops, "methods");
  lua_pushvalue(L, children);
  lua_setfield(L, ops, "children");
  lua_pushvalue(L, op_of);
  lua_setfield(L, ops, "op_of");
  lua_settop(L, ops);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &resource_ops_key);
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
  lua_pushlightuserdata(L, NULL); /* telnyx.null */
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
 * own fields), with the nearest valid name.
 */
static int resource_unknown(lua_State *L, const char *resource, int key_idx, int extra_idx) {
  int names;
  key_idx = lua_absindex(L, key_idx);
  luaL_checkstack(L, 8, "an unknown name");
  lua_newtable(L);
  names = lua_gettop(L);
  resource_push_ops(L);
  lua_getfield(L, -1, "methods");
  lua_getfield(L, -2, "children");
  if (resource == NULL) {
    resource_add_names(L, names + 2, names); /* the checker skips the dotted ones */
    resource_add_names(L, names + 3, names);
    if (extra_idx) resource_add_names(L, extra_idx, names);
  } else {
    lua_getfield(L, names + 2, resource);
    resource_add_names(L, lua_gettop(L), names);
    lua_getfield(L, names + 3, resource);
    resource_add_names(L, lua_gettop(L), names);
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
  lua_getfield(L, -1, "methods");
  found = lua_getfield(L, -1, name) != LUA_TNIL;
  lua_pop(L, 2);
  if (!found) {
    lua_getfield(L, -1, "children");
    found = lua_getfield(L, -1, name) != LUA_TNIL;
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
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
  const char *name, *key;
  luaL_checkudata(L, 1, RESOURCE_MT);
  key = luaL_checkstring(L, 2);
  lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
  name = lua_tostring(L, -1);
  resource_push_ops(L);
  lua_getfield(L, -1, "methods");
  if (lua_getfield(L, -1, name) == LUA_TTABLE && lua_getfield(L, -1, key) != LUA_TNIL) return 1;
  lua_settop(L, 4); /* keep the operation tables at 4 */
  lua_getfield(L, -1, "children");
  if (lua_getfield(L, -1, name) == LUA_TTABLE && lua_getfield(L, -1, key) != LUA_TNIL) {
    const char *child = lua_pushfstring(L, "%s.%s", name, key);
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

/* Whether the operation's request body may be left out altogether. */
static int resource_body_optional(lua_State *L, int op_idx) {
  int optional;
  lua_getfield(L, op_idx, "body");
  lua_getfield(L, -1, "optional");
  optional = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return optional;
}

/* Pushes the operation's path with its {param} replaced by the encoded id at id_idx. */
static void resource_push_path(lua_State *L, int op_idx, int id_idx) {
  struct buf *b;
  const char *tmpl, *open, *close;
  lua_getfield(L, op_idx, "path");
  tmpl = lua_tostring(L, -1);
  b = buf_new(L);
  open = id_idx ? strchr(tmpl, '{') : NULL;
  close = open ? strchr(open, '}') : NULL;
  if (open && close) {
    size_t n;
    const char *id = lua_tolstring(L, id_idx, &n);
    buf_add(L, b, tmpl, (size_t)(open - tmpl));
    query_add_path_segment(L, b, id, n);
    buf_add_string(L, b, close + 1);
  } else {
    buf_add_string(L, b, tmpl);
  }
  buf_push_result(L, -1);
  lua_remove(L, -2);
}

/*
 * Every operation: self, then the id when the path has one, then params (body or query),
 * then opts. A list returns a pager (and the pager again as the closing value for `for`).
 */
static int resource_op_call(lua_State *L) {
  static const char *const known_opts[] = {"timeout",   "max_retries", "headers",       "extra_query",
                                           "extra_body", "extra_headers", NULL};
  int op_idx = lua_upvalueindex(1);
  int arg = 2, id_idx = 0, params_idx = 0, params_slot = 0, opts_idx = 0, client_idx, path_idx;
  int has_path, has_body, paginated, takes_params;
  const char *http_method, *accept;
  luaL_checkudata(L, 1, RESOURCE_MT);
  lua_getfield(L, op_idx, "path_param");
  has_path = !lua_isnil(L, -1);
  lua_getfield(L, op_idx, "body");
  has_body = !lua_isnil(L, -1);
  lua_getfield(L, op_idx, "paginated");
  paginated = lua_toboolean(L, -1);
  lua_getfield(L, op_idx, "query");
  takes_params = has_body || paginated || (lua_istable(L, -1) && lua_rawlen(L, -1) > 0);
  lua_pop(L, 4);
  if (has_path) {
    size_t n;
    if (lua_type(L, arg) != LUA_TSTRING || (lua_tolstring(L, arg, &n), n == 0)) {
      const char *param, *name;
      lua_getfield(L, op_idx, "path_param");
      param = lua_tostring(L, -1);
      name = resource_op_name(L, op_idx); /* pushes: evaluated apart from the call's arguments */
      return luaL_error(L, "%s: %s must be a non-empty string, got %s", name, param,
                        lua_type(L, arg) == LUA_TSTRING ? "an empty string" : luaL_typename(L, arg));
    }
    id_idx = arg++;
  }
  if (takes_params) {
    if (!lua_isnoneornil(L, arg) && !lua_istable(L, arg))
      return luaL_error(L, "%s: params must be a table, got %s", resource_op_name(L, op_idx),
                        luaL_typename(L, arg));
    if (lua_istable(L, arg)) params_idx = arg;
    params_slot = arg++;
  }
  if (!lua_isnoneornil(L, arg)) {
    if (!lua_istable(L, arg))
      return luaL_error(L, "%s: opts must be a table, got %s", resource_op_name(L, op_idx),
                        luaL_typename(L, arg));
    opts_idx = arg;
    client_check_keys(L, opts_idx, known_opts, resource_op_name(L, op_idx));
  }
  lua_settop(L, arg);
  resource_check_call(L, op_idx, params_idx);
  if (has_body && params_idx == 0 && !resource_body_optional(L, op_idx)) {
    lua_newtable(L); /* the API expects a JSON object even when no field is given */
    lua_replace(L, params_slot);
    params_idx = params_slot;
  }
  lua_getiuservalue(L, 1, RESOURCE_UV_CLIENT);
  client_idx = lua_gettop(L);
  client_check(L, client_idx);
  resource_push_path(L, op_idx, id_idx);
  path_idx = lua_gettop(L);
  if (paginated) {
    lua_createtable(L, 0, 6);
    lua_pushvalue(L, client_idx);
    lua_setfield(L, -2, "client");
    lua_pushvalue(L, path_idx);
    lua_setfield(L, -2, "path");
    if (params_idx) {
      lua_pushvalue(L, params_idx);
      lua_setfield(L, -2, "params");
    }
    if (opts_idx) {
      lua_pushvalue(L, opts_idx);
      lua_setfield(L, -2, "opts");
    }
    lua_pushvalue(L, op_idx);
    lua_setfield(L, -2, "op");
    pager_new(L, lua_gettop(L));
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, -3);
    return 4;
  }
  lua_getfield(L, op_idx, "http_method");
  http_method = lua_tostring(L, -1);
  lua_getfield(L, op_idx, "accept");
  accept = lua_isstring(L, -1) ? lua_tostring(L, -1) : "application/json";
  /* The method string must be static for the call: map it to the client's own names. */
  {
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    int i;
    for (i = 0; methods[i] != NULL; i++)
      if (strcmp(methods[i], http_method) == 0) break;
    if (methods[i] == NULL) return luaL_error(L, "%s: unsupported HTTP method %s", resource_op_name(L, op_idx), http_method);
    http_method = methods[i];
  }
  if (has_body)
    return call_start(L, client_idx, http_method, path_idx, 0, params_idx ? params_idx : 0,
                       opts_idx, accept, strncmp(accept, "text/", 5) == 0);
  return call_start(L, client_idx, http_method, path_idx, params_idx, 0, opts_idx, accept,
                     strncmp(accept, "text/", 5) == 0);
}

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

/* telnyx.describe(v): {kind=, ...} for a client, resource or method; nil otherwise. */
static int resource_describe(lua_State *L) {
  if (luaL_testudata(L, 1, CLIENT_MT)) {
    struct client *c = lua_touserdata(L, 1);
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, "client");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, c->closed ? "(closed)" : c->base_url);
    lua_setfield(L, -2, "base_url");
    resource_push_ops(L);
    lua_getfield(L, -1, "methods");
    resource_push_copy(L, -1, RESOURCE_DESCRIBE_DEPTH);
    lua_setfield(L, -4, "resources");
    lua_pop(L, 2);
    return 1;
  }
  if (luaL_testudata(L, 1, RESOURCE_MT)) {
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "resource");
    lua_setfield(L, -2, "kind");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    lua_setfield(L, -2, "name");
    resource_push_ops(L);
    lua_getfield(L, -1, "methods");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    lua_gettable(L, -2);
    resource_push_copy(L, -1, RESOURCE_DESCRIBE_DEPTH);
    lua_setfield(L, -5, "methods");
    lua_pop(L, 1);
    lua_getfield(L, -2, "children");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    lua_gettable(L, -2);
    resource_push_copy(L, -1, RESOURCE_DESCRIBE_DEPTH);
    lua_setfield(L, -6, "children");
    lua_pop(L, 4);
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
