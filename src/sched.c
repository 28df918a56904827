/*
 * telnyx.map: bulk work on one event loop, the way lua-nginx-module runs requests. Each item
 * gets a coroutine (a task); a client call inside it yields while its transfer is in flight
 * or its retry wait runs, and this loop, in C on the calling thread, drives the curl multi
 * handle and resumes each task when what it waits for is done. Suspended tasks are anchored
 * in a table so the collector never frees a coroutine that a transfer will wake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "errors.h"
#include "http.h"
#include "interrupt.h"
#include "sched.h"

#define SCHED_DEFAULT_CONCURRENCY 8
#define SCHED_MAX_CONCURRENCY 256
#define SCHED_TICK_MS 50.0 /* longest wait between checks for Ctrl-C and redraws */
#define SCHED_PROGRESS_EVERY_MS 100.0

/* lua_closethread is lua_resetthread before Lua 5.4.6. */
#if LUA_VERSION_RELEASE_NUM >= 50406
#define sched_close_thread(co, from) lua_closethread(co, from)
#else
#define sched_close_thread(co, from) ((void)(from), lua_resetthread(co))
#endif

static const char sched_tasks_key = 't'; /* registry: {[thread] = true} for running tasks */
static const char sched_yield_key = 'y'; /* first value of a scheduler yield */

enum task_state { TASK_FREE, TASK_WAIT_IO, TASK_WAIT_TIME };

struct task {
  lua_State *co;
  lua_Integer index; /* of the item */
  enum task_state state;
  struct http_transfer *xfer;
  double wake_ms;
};

/* Stack slots of telnyx.map while it runs. */
enum { MAP_ITEMS = 1, MAP_FN, MAP_OPTS, MAP_RESULTS, MAP_FAILURES, MAP_ANCHORS, MAP_TASKS, MAP_REGISTRY_TASKS };

struct map {
  struct task *tasks; /* in a userdata at MAP_TASKS */
  int ntasks;
  lua_Integer next, total, done, failed;
  int progress;
  double started_ms, drawn_ms;
};

int sched_in_task(lua_State *L) {
  int found;
  if (!lua_isyieldable(L)) return 0;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &sched_tasks_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushthread(L);
  found = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return found;
}

int sched_await_transfer(lua_State *L, struct http_transfer *t, lua_KContext ctx, lua_KFunction k) {
  lua_pushlightuserdata(L, (void *)&sched_yield_key);
  lua_pushlightuserdata(L, t);
  return lua_yieldk(L, 2, ctx, k);
}

int sched_await_time(lua_State *L, double until_ms, lua_KContext ctx, lua_KFunction k) {
  lua_pushlightuserdata(L, (void *)&sched_yield_key);
  lua_pushnumber(L, until_ms);
  return lua_yieldk(L, 2, ctx, k);
}

/* ---- progress line ---- */

static void sched_draw_progress(struct map *m, int final) {
  double now = http_now_ms(), secs = (now - m->started_ms) / 1000.0;
  double rate = secs > 0 ? (double)m->done / secs : 0;
  if (!final && now - m->drawn_ms < SCHED_PROGRESS_EVERY_MS) return;
  m->drawn_ms = now;
  fprintf(stderr, "\r\033[K%lld/%lld done, %lld failed, %.1f/s", (long long)m->done,
          (long long)m->total, (long long)m->failed, rate);
  if (!final && rate > 0) fprintf(stderr, ", ETA %.0f s", (double)(m->total - m->done) / rate);
  if (final) fputc('\n', stderr);
  fflush(stderr);
}

/* ---- tasks ---- */

/* Frees the task's slot; its coroutine is dropped from the anchors and the task registry. */
static void sched_free_task(lua_State *L, struct map *m, struct task *task) {
  int slot = (int)(task - m->tasks) + 1;
  if (task->xfer != NULL) http_release(task->xfer);
  lua_pushthread(task->co);
  lua_xmove(task->co, L, 1);
  lua_pushnil(L);
  lua_rawset(L, MAP_REGISTRY_TASKS);
  lua_pushnil(L);
  lua_rawseti(L, MAP_ANCHORS, slot);
  task->co = NULL;
  task->xfer = NULL;
  task->state = TASK_FREE;
}

static void sched_record_failure(lua_State *L, struct map *m, struct task *task) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, task->index);
  lua_setfield(L, -2, "index");
  lua_rawgeti(L, MAP_ITEMS, task->index);
  lua_setfield(L, -2, "item");
  lua_xmove(task->co, L, 1); /* the error value */
  lua_setfield(L, -2, "error");
  lua_rawseti(L, MAP_FAILURES, (lua_Integer)lua_rawlen(L, MAP_FAILURES) + 1);
  m->failed++;
}

/* Resumes a task with nargs values on its stack, and files what it did. */
static void sched_resume(lua_State *L, struct map *m, struct task *task, int nargs) {
  lua_State *co = task->co;
  int nres = 0, status;
  task->state = TASK_FREE;
  task->xfer = NULL;
  status = lua_resume(co, L, nargs, &nres);
  if (status == LUA_YIELD) {
    if (nres == 2 && lua_touserdata(co, -2) == (void *)&sched_yield_key) {
      if (lua_type(co, -1) == LUA_TLIGHTUSERDATA) {
        task->xfer = lua_touserdata(co, -1);
        task->xfer->waiter = task;
        task->state = TASK_WAIT_IO;
      } else {
        task->wake_ms = lua_tonumber(co, -1);
        task->state = TASK_WAIT_TIME;
      }
      lua_pop(co, nres);
      return;
    }
    lua_pop(co, nres);
    lua_pushliteral(co, "telnyx.map: the task function yielded; use coroutine.wrap for your own "
                        "coroutines inside a task");
    sched_record_failure(L, m, task);
  } else if (status == LUA_OK) {
    if (nres > 0) {
      lua_settop(co, lua_gettop(co) - nres + 1);
      lua_xmove(co, L, 1);
      lua_rawseti(L, MAP_RESULTS, task->index);
    }
  } else {
    sched_record_failure(L, m, task);
  }
  m->done++;
  sched_close_thread(co, L);
  sched_free_task(L, m, task);
}

/* Starts the next item in a free slot. */
static void sched_start(lua_State *L, struct map *m, struct task *task) {
  int slot = (int)(task - m->tasks) + 1;
  lua_State *co = lua_newthread(L);
  lua_rawseti(L, MAP_ANCHORS, slot);
  lua_pushthread(co);
  lua_xmove(co, L, 1);
  lua_pushboolean(L, 1);
  lua_rawset(L, MAP_REGISTRY_TASKS);
  task->co = co;
  task->index = m->next++;
  lua_pushvalue(L, MAP_FN);
  lua_rawgeti(L, MAP_ITEMS, task->index);
  lua_pushinteger(L, task->index);
  lua_xmove(L, co, 3);
  sched_resume(L, m, task, 2);
}

/* Ctrl-C: stops every task and raises an error that carries what was done. */
static int sched_interrupted(lua_State *L, struct map *m) {
  int i;
  lua_Integer k, pending = 0;
  lua_newtable(L);
  for (i = 0; i < m->ntasks; i++) {
    struct task *task = &m->tasks[i];
    if (task->state == TASK_FREE) continue;
    lua_pushinteger(L, task->index);
    lua_rawseti(L, -2, ++pending);
    sched_close_thread(task->co, L);
    sched_free_task(L, m, task);
  }
  for (k = m->next; k <= m->total; k++) {
    lua_pushinteger(L, k);
    lua_rawseti(L, -2, ++pending);
  }
  if (m->progress) sched_draw_progress(m, 1);
  lua_pushfstring(L, "interrupted: %I of %I items done, %I failed, %I not done",
                  (LUAI_UACINT)m->done, (LUAI_UACINT)m->total, (LUAI_UACINT)m->failed,
                  (LUAI_UACINT)pending);
  errors_push(L, "InterruptedError", 0, lua_tostring(L, -1));
  interrupt_take(); /* the one error for it, for every task (see interrupt.h) */
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "pending");
  lua_pushvalue(L, MAP_RESULTS);
  lua_setfield(L, -2, "results");
  lua_pushvalue(L, MAP_FAILURES);
  lua_setfield(L, -2, "failures");
  return lua_error(L);
}

/* Waits for the next event: a transfer done, a timer due, or a tick. */
static void sched_wait(lua_State *L, struct map *m) {
  struct http_loop *loop = http_loop_get(L);
  double now = http_now_ms(), wait = SCHED_TICK_MS;
  int i, io = 0;
  struct http_transfer *t;
  for (i = 0; i < m->ntasks; i++) {
    if (m->tasks[i].state == TASK_WAIT_IO) io = 1;
    if (m->tasks[i].state == TASK_WAIT_TIME && m->tasks[i].wake_ms - now < wait)
      wait = m->tasks[i].wake_ms - now;
  }
  if (wait < 0) wait = 0;
  if (io)
    http_step(loop, (int)wait);
  else if (wait > 0)
    http_sleep(wait);
  if (interrupt_pending()) return; /* the caller stops every task; none is resumed to fail */
  while ((t = http_next_done(loop)) != NULL) {
    struct task *task = t->waiter;
    /* A transfer of another (abandoned) map is not ours to resume. */
    if (task >= m->tasks && task < m->tasks + m->ntasks && task->state == TASK_WAIT_IO && task->xfer == t)
      sched_resume(L, m, task, 0);
  }
  now = http_now_ms();
  for (i = 0; i < m->ntasks; i++)
    if (m->tasks[i].state == TASK_WAIT_TIME && m->tasks[i].wake_ms <= now)
      sched_resume(L, m, &m->tasks[i], 0);
}

/* telnyx.map(items, fn [, {concurrency=, progress=}]) -> results, failures */
static int sched_map(lua_State *L) {
  struct map m;
  lua_Integer concurrency = SCHED_DEFAULT_CONCURRENCY;
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  if (sched_in_task(L)) return luaL_error(L, "telnyx.map cannot run inside a telnyx.map task");
  memset(&m, 0, sizeof m);
  if (lua_istable(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3) != 0) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (strcmp(k, "concurrency") == 0) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > SCHED_MAX_CONCURRENCY)
          return luaL_error(L, "telnyx.map: concurrency must be an integer from 1 to %d", SCHED_MAX_CONCURRENCY);
        concurrency = lua_tointeger(L, -1);
      } else if (strcmp(k, "progress") == 0) {
        m.progress = lua_toboolean(L, -1) && isatty(STDERR_FILENO);
      } else {
        lua_pushvalue(L, -2);
        return luaL_error(L, "telnyx.map: unknown option '%s'", luaL_tolstring(L, -1, NULL));
      }
      lua_pop(L, 1);
    }
  }
  m.total = (lua_Integer)lua_rawlen(L, MAP_ITEMS);
  m.next = 1;
  m.ntasks = (int)(concurrency < m.total ? concurrency : (m.total > 0 ? m.total : 1));
  m.started_ms = http_now_ms();
  lua_createtable(L, (int)m.total, 0); /* MAP_RESULTS */
  lua_newtable(L);                     /* MAP_FAILURES */
  lua_createtable(L, m.ntasks, 0);     /* MAP_ANCHORS */
  m.tasks = lua_newuserdatauv(L, sizeof(struct task) * (size_t)m.ntasks, 0); /* MAP_TASKS */
  memset(m.tasks, 0, sizeof(struct task) * (size_t)m.ntasks);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &sched_tasks_key) != LUA_TTABLE) { /* MAP_REGISTRY_TASKS */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &sched_tasks_key);
  }
  while (m.done < m.total) {
    if (interrupt_pending()) return sched_interrupted(L, &m);
    for (i = 0; i < m.ntasks && m.next <= m.total; i++)
      if (m.tasks[i].state == TASK_FREE && m.tasks[i].co == NULL) sched_start(L, &m, &m.tasks[i]);
    if (m.done < m.total) sched_wait(L, &m);
    if (m.progress) sched_draw_progress(&m, 0);
  }
  if (m.progress) sched_draw_progress(&m, 1);
  lua_pushvalue(L, MAP_RESULTS);
  lua_pushvalue(L, MAP_FAILURES);
  return 2;
}

void sched_open(lua_State *L) { lua_pushcfunction(L, sched_map); }
