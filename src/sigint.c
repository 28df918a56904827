/* Ctrl-C in a script's coroutines: see sigint.h. */
#include <lauxlib.h>

#include "interrupt.h"
#include "sched.h"
#include "sigint.h"

#define SIGINT_HOOK_COUNT 1000 /* instructions between looks at the flag */

static void sigint_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!interrupt_pending() || sched_in_task(L)) return;
  interrupt_take(); /* the one error for it (see interrupt.h) */
  luaL_error(L, "interrupted!");
}

/* watch(co) */
static int sigint_l_watch(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  lua_sethook(co, sigint_hook, LUA_MASKCOUNT, SIGINT_HOOK_COUNT);
  interrupt_catch_once();
  return 0;
}

void sigint_push_watch(lua_State *L) { lua_pushcfunction(L, sigint_l_watch); }
