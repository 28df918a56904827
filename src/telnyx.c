/* The telnyx module: its table, the embedded Lua parts, and the process-wide interrupt flag. */
#include <signal.h>

#include <lauxlib.h>

#include "client.h"
#include "embed.h"
#include "errors.h"
#include "json.h"
#include "log.h"
#include "pager.h"
#include "sched.h"
#include "telnyx.h"

/*
 * Set from a signal handler, so it cannot live in Lua state: the one kind of C global the
 * module keeps. Read by the transfer's progress callback and before each attempt.
 */
static volatile sig_atomic_t telnyx_interrupt_flag = 0;

void telnyx_interrupt(void) { telnyx_interrupt_flag = 1; }

void telnyx_clear_interrupt(void) { telnyx_interrupt_flag = 0; }

int telnyx_interrupted(void) { return telnyx_interrupt_flag != 0; }

int luaopen_telnyx(lua_State *L) {
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
  client_open(L);
  lua_setfield(L, -2, "new");
  sched_open(L);
  lua_setfield(L, -2, "map");
  client_push_describe(L);
  lua_setfield(L, -2, "describe");
  log_open(L); /* internal, for the Lua parts: the one secret-key rule */
  lua_setfield(L, -2, "_is_secret_key");
  return 1;
}
