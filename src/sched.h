#ifndef TELNYX_SCHED_H
#define TELNYX_SCHED_H

#include <lua.h>

#include "http.h"

/* Whether L is a telnyx.map task, whose calls yield to the scheduler instead of blocking. */
int sched_in_task(lua_State *L);

/* Whether a telnyx.map runs now: its scheduler is the one to report an interrupt. */
int sched_running(lua_State *L);

/* Suspends the task until the transfer ends, then continues with k(L, LUA_YIELD, ctx). */
int sched_await_transfer(lua_State *L, struct http_transfer *t, lua_KContext ctx, lua_KFunction k);

/* Suspends the task until the monotonic time until_ms, then continues with k. */
int sched_await_time(lua_State *L, double until_ms, lua_KContext ctx, lua_KFunction k);

/* Pushes telnyx.map. */
void sched_open(lua_State *L);

#endif
