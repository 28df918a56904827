/*
 * Resources are data: each operation of the table generated from the OpenAPI file
 * (lua/telnyx/resources.lua) becomes a method, a C closure over its entry, so one generic
 * path serves every endpoint. Here: the operation tables, the Resource object and its
 * __index, the binding of a method's arguments and the templating of its path, and
 * telnyx.describe for the REPL.
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

static const char resource_ops_key = 'o'; /* registry: the operation tables, built on first use */

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
  return 0;
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

/* Raises before sending when a required body field is missing. */
static void resource_check_required(lua_State *L, int op_idx, int params_idx) {
  lua_Integer i, n;
  if (lua_getfield(L, op_idx, "body") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "required");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (params_idx == 0 || lua_getfield(L, params_idx, lua_tostring(L, -1)) == LUA_TNIL) {
      const char *field = lua_tostring(L, params_idx ? -2 : -1);
      luaL_error(L, "%s: missing required field '%s'", resource_op_name(L, op_idx), field);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 2);
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
  static const char *const known_opts[] = {"timeout", "max_retries", "headers", NULL};
  int op_idx = lua_upvalueindex(1);
  int arg = 2, id_idx = 0, params_idx = 0, params_slot = 0, opts_idx = 0, client_idx, path_idx;
  int has_path, has_body, paginated, takes_params;
  const char *http_method, *accept;
  luaL_checkudata(L, 1, RESOURCE_MT);
  lua_getfield(L, op_idx, "path_params"); /* one parameter for now: the branch call19 binds all */
  has_path = lua_istable(L, -1) && lua_rawlen(L, -1) > 0;
  lua_getfield(L, op_idx, "body");
  has_body = !lua_isnil(L, -1);
  lua_getfield(L, op_idx, "pagination");
  paginated = !lua_isnil(L, -1);
  lua_getfield(L, op_idx, "query");
  takes_params = has_body || paginated || (lua_istable(L, -1) && lua_rawlen(L, -1) > 0);
  lua_pop(L, 4);
  if (has_path) {
    size_t n;
    if (lua_type(L, arg) != LUA_TSTRING || (lua_tolstring(L, arg, &n), n == 0)) {
      const char *param, *name;
      lua_getfield(L, op_idx, "path_params");
      lua_rawgeti(L, -1, 1);
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
  if (has_body) resource_check_required(L, op_idx, params_idx);
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
  if (strchr(key, '.') != NULL || !resource_exists(L, key)) return 0;
  resource_push(L, 1, key);
  return 1;
}

void resource_open(lua_State *L) {
  static const luaL_Reg resource_meta[] = {{"__index", resource_index}, {"__tostring", resource_tostring},
                                           {NULL, NULL}};
  if (luaL_newmetatable(L, RESOURCE_MT)) luaL_setfuncs(L, resource_meta, 0);
  lua_pop(L, 1);
}
