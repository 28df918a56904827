/* Ctrl-C in a script's coroutines: see sigint.h. */
#include <lauxlib.h>

#include "interrupt.h"
#include "sched.h"
#include "sigint.h"

/* watch(co) */
static int sigint_l_watch(lua_State *L) {
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  sched_watch(co, 0);
  interrupt_catch_once();
  return 0;
}

void sigint_push_watch(lua_State *L) { lua_pushcfunction(L, sigint_l_watch); }
