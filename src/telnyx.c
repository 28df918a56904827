/* The telnyx module: its table, and the joining of its units (see client_open). */
#include <lauxlib.h>

#include "body.h"
#include "call.h"
#include "client.h"
#include "embed.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "resource.h"
#include "sched.h"
#include "sigint.h"
#include "telnyx.h"

/* telnyx.help(...): a stub, so the help module (and the API table) load only when asked. */
static int telnyx_help(lua_State *L) {
  int n = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx.help");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "text");
  lua_replace(L, -2);
  lua_insert(L, 1);
  lua_call(L, n, 1);
  return 1;
}

int luaopen_telnyx(lua_State *L) {
  static const luaL_Reg client_methods[] = {{"request", call_request}, {NULL, NULL}};
  embed_open(L);
  lua_createtable(L, 0, 16);
  lua_pushliteral(L, TELNYX_VERSION);
  lua_setfield(L, -2, "VERSION");
  json_open(L);
  lua_getfield(L, -1, "null");
  lua_setfield(L, -3, "null");
  lua_setfield(L, -2, "json");
  errors_open(L);
  lua_setfield(L, -2, "is_error");
  call_open(L);
  resource_open(L);
  client_open(L, client_methods, resource_lookup);
  lua_setfield(L, -2, "new");
  sched_open(L);
  lua_setfield(L, -2, "map");
  resource_push_describe(L);
  lua_setfield(L, -2, "describe");
  lua_pushcfunction(L, telnyx_help);
  lua_setfield(L, -2, "help");
  log_open(L); /* internal, for the Lua parts: the one secret-key rule */
  lua_setfield(L, -2, "_is_secret_key");
  body_open(L);
  lua_setfield(L, -2, "file");
  resource_push_bind_op(L);
  lua_setfield(L, -2, "_bind_op");
  sigint_push_watch(L); /* internal, for telnyx.cli.main: Ctrl-C in a script's coroutine */
  lua_setfield(L, -2, "_watch_interrupts");
  return 1;
}
