#ifndef TELNYX_SCHED_H
#define TELNYX_SCHED_H

#include <lua.h>

#include "http.h"

/* Whether L is a telnyx.map task, whose calls yield to the scheduler instead of blocking. */
int sched_in_task(lua_State *L);

/*
 * Ctrl-C in Lua code that computes (a hook cannot fire in a blocking transfer: interrupt.h
 * covers those): gives coroutine co a count hook that looks at the interrupt flag. Outside a
 * telnyx.map it raises "interrupted!" and takes the flag. While a map runs, its scheduler
 * reports the interrupt for every task (interrupt.h): the hook yields a task back to it at once
 * and, in a coroutine a task made or where no yield is allowed, raises "interrupted!" and leaves
 * the flag up for it. With only_if_none, a coroutine that has a hook of its own keeps it.
 */
void sched_watch(lua_State *co, int only_if_none);

/* Suspends the task until the transfer ends, then continues with k(L, LUA_YIELD, ctx). */
int sched_await_transfer(lua_State *L, struct http_transfer *t, lua_KContext ctx, lua_KFunction k);

/* Suspends the task until the monotonic time until_ms, then continues with k. */
int sched_await_time(lua_State *L, double until_ms, lua_KContext ctx, lua_KFunction k);

/* Pushes telnyx.map. */
void sched_open(lua_State *L);

#endif
