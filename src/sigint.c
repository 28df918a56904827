/* SIGINT for the module: see sigint.h for who installs what, and for how long. */
#include <lauxlib.h>

#include "interrupt.h"
#include "sched.h"
#include "sigint.h"

#define SIGINT_HOOK_COUNT 1000 /* instructions between looks at the flag */

/* Only raises the flag (async-signal-safe): whoever waits or runs Lua looks at it. */
static void sigint_on_signal(int sig) {
  (void)sig;
  interrupt_raise();
}

static int sigint_install(struct sigaction *old, int flags) {
  struct sigaction sa;
  if (sigaction(SIGINT, NULL, old) != 0 || old->sa_handler == SIG_IGN) return 0;
  sa.sa_handler = sigint_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = flags;
  return sigaction(SIGINT, &sa, NULL) == 0;
}

void sigint_catch(struct sigint_saved *saved) {
  saved->installed = sigint_install(&saved->old, 0);
}

void sigint_release(struct sigint_saved *saved) {
  if (saved->installed) sigaction(SIGINT, &saved->old, NULL);
  saved->installed = 0;
}

static void sigint_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!interrupt_pending()) return;
  if (sched_running(L)) { /* the scheduler stops every task and takes the flag (interrupt.h) */
    if (sched_in_task(L)) {
      lua_yield(L, 0); /* a count hook may yield, without values; the hook must return now */
      return;
    }
    luaL_error(L, "interrupted!");
  }
  interrupt_take(); /* the one error for it (see interrupt.h) */
  luaL_error(L, "interrupted!");
}

/* watch(co) */
static int sigint_l_watch(lua_State *L) {
  struct sigaction old;
  lua_State *co = lua_tothread(L, 1);
  luaL_argexpected(L, co != NULL, 1, "coroutine");
  lua_sethook(co, sigint_hook, LUA_MASKCOUNT, SIGINT_HOOK_COUNT);
  (void)sigint_install(&old, SA_RESETHAND); /* for good: nothing to restore before os.exit */
  return 0;
}

void sigint_watch_task(lua_State *co) {
  if (lua_gethook(co) == NULL) lua_sethook(co, sigint_hook, LUA_MASKCOUNT, SIGINT_HOOK_COUNT);
}

void sigint_push_watch(lua_State *L) { lua_pushcfunction(L, sigint_l_watch); }
