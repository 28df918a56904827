/* The telnyx module: its table, and the joining of its units (see client_open). */
#include <lauxlib.h>

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

int luaopen_telnyx(lua_State *L) {
  static const luaL_Reg client_methods[] = {{"request", call_request}, {NULL, NULL}};
  embed_preload(L);
  lua_createtable(L, 0, 8);
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
  log_open(L); /* internal, for the Lua parts: the one secret-key rule */
  lua_setfield(L, -2, "_is_secret_key");
  sigint_push_watch(L); /* internal, for telnyx.cli.main: Ctrl-C in a script's coroutine */
  lua_setfield(L, -2, "_watch_interrupts");
  return 1;
}
