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

/* registry: the map userdata of the telnyx.map running now, if any (one at a time) */
static const char sched_active_key = 'm';

enum task_state { TASK_FREE, TASK_RUNNING, TASK_WAIT_IO, TASK_WAIT_TIME };

struct task {
  lua_State *co; /* NULL: a free slot */
  lua_Integer index; /* of the item */
  enum task_state state;
  struct http_transfer *xfer; /* while TASK_WAIT_IO; cleared by http_release if freed first */
  double wake_ms;
  lua_KFunction k; /* what the waiting call continues with */
  lua_KContext kctx;
};

/* Stack slots of telnyx.map while it runs. */
enum { MAP_ITEMS = 1, MAP_FN, MAP_OPTS, MAP_RESULTS, MAP_FAILURES, MAP_STATE };

/*
 * The state of a running map, in a to-be-closed userdata whose user value is the table that
 * anchors the tasks' coroutines: however the map ends (done, an error, Ctrl-C), its __close
 * closes every task left and lets go of its transfers, and no coroutine of it stays resumable.
 */
struct map {
  struct task *current; /* the task telnyx.map is resuming now, or NULL */
  int ntasks, closed;
  lua_Integer next, total, done, failed;
  int progress;
  double started_ms, drawn_ms;
  struct interrupt_saved sig; /* SIGINT raises the flag for the whole map, also in lua5.4 */
  struct task tasks[];
};

static struct map *sched_active(lua_State *L) {
  struct map *m = NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &sched_active_key) == LUA_TUSERDATA) m = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return m;
}

/* The task whose coroutine is L, when telnyx.map is the one resuming it right now. */
static struct task *sched_current(lua_State *L) {
  struct map *m = sched_active(L);
  return (m != NULL && m->current != NULL && m->current->co == L) ? m->current : NULL;
}

/*
 * Keyed on the running coroutine itself: a coroutine a task creates (coroutine.wrap) is not a
 * task, and neither is a task's coroutine resumed by other code; their calls block.
 */
int sched_in_task(lua_State *L) { return lua_isyieldable(L) && sched_current(L) != NULL; }

#define SCHED_HOOK_COUNT 1000 /* instructions between looks at the interrupt flag */

static void sched_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  if (!interrupt_pending()) return;
  if (sched_active(L) != NULL) { /* the scheduler stops every task and takes the flag */
    if (sched_in_task(L)) {
      lua_yield(L, 0); /* a count hook may yield, without values; the hook must return now */
      return;
    }
    luaL_error(L, "interrupted!");
  }
  interrupt_take(); /* the one error for it (see interrupt.h) */
  luaL_error(L, "interrupted!");
}

void sched_watch(lua_State *co, int only_if_none) {
  if (!only_if_none || lua_gethook(co) == NULL) lua_sethook(co, sched_hook, LUA_MASKCOUNT, SCHED_HOOK_COUNT);
}

/* Where a waiting call continues: only when telnyx.map resumed this very task. */
static int sched_continue(lua_State *L, int status, lua_KContext ctx) {
  struct task *task = sched_current(L);
  (void)ctx;
  if (task == NULL)
    return luaL_error(L, "telnyx.map: a task's coroutine was resumed outside telnyx.map (by "
                         "coroutine.resume or coroutine.wrap); only telnyx.map may resume it");
  return task->k(L, status, task->kctx);
}

static int sched_await(lua_State *L, struct task *task, lua_KContext ctx, lua_KFunction k) {
  task->k = k;
  task->kctx = ctx;
  return lua_yieldk(L, 0, 0, sched_continue);
}

int sched_await_transfer(lua_State *L, struct http_transfer *t, lua_KContext ctx, lua_KFunction k) {
  struct task *task = sched_current(L);
  if (task == NULL) return luaL_error(L, "telnyx.map: not inside a task");
  task->state = TASK_WAIT_IO;
  task->xfer = t;
  t->waiter = task;
  t->waiter_ref = &task->xfer;
  return sched_await(L, task, ctx, k);
}

int sched_await_time(lua_State *L, double until_ms, lua_KContext ctx, lua_KFunction k) {
  struct task *task = sched_current(L);
  if (task == NULL) return luaL_error(L, "telnyx.map: not inside a task");
  task->state = TASK_WAIT_TIME;
  task->wake_ms = until_ms;
  return sched_await(L, task, ctx, k);
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

/* Lets go of the task's transfer, if it still waits on one: stopped now, not when its call is
   collected. The transfer stays its call's; releasing it again is harmless. */
static void sched_drop_transfer(struct task *task) {
  struct http_transfer *t = task->xfer;
  if (t == NULL) return;
  t->waiter = NULL;
  t->waiter_ref = NULL;
  task->xfer = NULL;
  http_release(t);
}

/*
 * Frees the task's slot: its transfer released, its coroutine closed (pending to-be-closed
 * variables run; the stack is emptied, so it is dead to any later resume) and unanchored.
 * map_idx: the map userdata's stack index.
 */
static void sched_free_task(lua_State *L, int map_idx, struct task *task) {
  struct map *m = lua_touserdata(L, map_idx);
  int slot = (int)(task - m->tasks) + 1;
  lua_State *co = task->co;
  sched_drop_transfer(task);
  task->co = NULL;
  task->state = TASK_FREE;
  if (co == NULL) return;
  if (lua_status(co) != LUA_OK || lua_gettop(co) > 0) {
    sched_close_thread(co, L);
    lua_settop(co, 0); /* a closed errored thread keeps its error, which resume would call */
  }
  lua_getiuservalue(L, map_idx, 1);
  lua_pushnil(L);
  lua_rawseti(L, -2, slot);
  lua_pop(L, 1);
}

/* Files a failure for the task; its error value is on top of L. */
static void sched_record_failure(lua_State *L, struct map *m, struct task *task) {
  lua_createtable(L, 0, 3);
  lua_rotate(L, -2, 1);
  lua_setfield(L, -2, "error");
  lua_pushinteger(L, task->index);
  lua_setfield(L, -2, "index");
  lua_rawgeti(L, MAP_ITEMS, task->index);
  lua_setfield(L, -2, "item");
  lua_rawseti(L, MAP_FAILURES, (lua_Integer)lua_rawlen(L, MAP_FAILURES) + 1);
  m->failed++;
}

static void sched_end_task(lua_State *L, struct map *m, struct task *task) {
  m->done++;
  sched_free_task(L, MAP_STATE, task);
}

/* A waiting task whose coroutine someone else closed or resumed: it fails with what happened. */
static int sched_check_task(lua_State *L, struct map *m, struct task *task) {
  lua_State *co = task->co;
  if (lua_status(co) == LUA_YIELD && (task->state != TASK_WAIT_IO || task->xfer != NULL)) return 1;
  if (lua_status(co) == LUA_OK)
    lua_pushliteral(L, "telnyx.map: the task's coroutine was closed by other code "
                       "(coroutine.close) while it waited");
  else
    lua_pushliteral(L, "telnyx.map: the task's coroutine was resumed outside telnyx.map "
                       "while it waited");
  sched_record_failure(L, m, task);
  sched_end_task(L, m, task);
  return 0;
}

/* Resumes a task with nargs values on its stack (the item and its index at the start, none
   after a wait), and files what it did. */
static void sched_resume(lua_State *L, struct map *m, struct task *task, int nargs) {
  lua_State *co = task->co;
  int nres = 0, status;
  if (nargs == 0 && !sched_check_task(L, m, task)) return;
  if (task->xfer != NULL) { /* done: the call reads it, and owns it again */
    task->xfer->waiter = NULL;
    task->xfer->waiter_ref = NULL;
    task->xfer = NULL;
  }
  task->state = TASK_RUNNING;
  m->current = task;
  status = lua_resume(co, L, nargs, &nres);
  m->current = NULL;
  if (status == LUA_YIELD) {
    lua_pop(co, nres);
    if (task->state != TASK_RUNNING) return; /* a call waits: sched_await_* said on what */
    if (interrupt_pending()) return; /* stopped by Ctrl-C (sched_hook): the map ends */
    lua_pushliteral(L, "telnyx.map: the task function yielded; use coroutine.wrap for your own "
                       "coroutines inside a task");
    sched_record_failure(L, m, task);
  } else if (status == LUA_OK) {
    if (nres > 0) {
      lua_settop(co, lua_gettop(co) - nres + 1);
      lua_xmove(co, L, 1);
      lua_rawseti(L, MAP_RESULTS, task->index);
    }
  } else {
    lua_xmove(co, L, 1); /* the error value */
    sched_record_failure(L, m, task);
  }
  sched_end_task(L, m, task);
}

/* Starts the next item in a free slot. */
static void sched_start(lua_State *L, struct map *m, struct task *task) {
  int slot = (int)(task - m->tasks) + 1;
  lua_State *co;
  lua_getiuservalue(L, MAP_STATE, 1);
  co = lua_newthread(L);
  sched_watch(co, 1); /* Ctrl-C stops its Lua loops too (one a script set stays) */
  lua_rawseti(L, -2, slot);
  lua_pop(L, 1);
  task->co = co;
  task->index = m->next++;
  lua_pushvalue(L, MAP_FN);
  lua_rawgeti(L, MAP_ITEMS, task->index);
  lua_pushinteger(L, task->index);
  lua_xmove(L, co, 3);
  sched_resume(L, m, task, 2);
}

/* Pushes an array of the indexes of the items whose task runs (in_flight) or that no task
   took yet. */
static void sched_push_indexes(lua_State *L, struct map *m, int in_flight) {
  lua_Integer k, n = 0;
  int i;
  lua_newtable(L);
  if (in_flight) {
    for (i = 0; i < m->ntasks; i++) {
      if (m->tasks[i].co == NULL) continue;
      lua_pushinteger(L, m->tasks[i].index);
      lua_rawseti(L, -2, ++n);
    }
    return;
  }
  for (k = m->next; k <= m->total; k++) {
    lua_pushinteger(L, k);
    lua_rawseti(L, -2, ++n);
  }
}

/*
 * Ctrl-C: stops every task and raises an error that carries what was done. An item whose
 * task was running had its request sent, or a retry of it pending: the API may have applied
 * it, so it is "outcome unknown", not "not started".
 */
static int sched_interrupted(lua_State *L, struct map *m) {
  int i, in_flight, not_started;
  lua_Integer n_flight, n_left;
  sched_push_indexes(L, m, 1);
  in_flight = lua_gettop(L);
  sched_push_indexes(L, m, 0);
  not_started = lua_gettop(L);
  n_flight = (lua_Integer)lua_rawlen(L, in_flight);
  n_left = (lua_Integer)lua_rawlen(L, not_started);
  /* Stopped while the flag is still up, so a call in a task's __close fails at once too. */
  for (i = 0; i < m->ntasks; i++)
    if (m->tasks[i].co != NULL) sched_free_task(L, MAP_STATE, &m->tasks[i]);
  if (m->progress) sched_draw_progress(m, 1);
  lua_pushfstring(L, "interrupted: %I of %I items done, %I failed, %I outcome unknown, %I not started",
                  (LUAI_UACINT)m->done, (LUAI_UACINT)m->total, (LUAI_UACINT)m->failed,
                  (LUAI_UACINT)n_flight, (LUAI_UACINT)n_left);
  errors_push(L, "InterruptedError", 0, lua_tostring(L, -1));
  interrupt_take(); /* the one error for it, for every task (see interrupt.h) */
  lua_pushvalue(L, in_flight);
  lua_setfield(L, -2, "in_flight");
  lua_pushvalue(L, not_started);
  lua_setfield(L, -2, "not_started");
  /* pending: both, in_flight first (what it held before the two were told apart) */
  lua_createtable(L, (int)(n_flight + n_left), 0);
  for (i = 1; i <= n_flight + n_left; i++) {
    lua_rawgeti(L, i <= n_flight ? in_flight : not_started, i <= n_flight ? i : i - n_flight);
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "pending");
  lua_pushvalue(L, MAP_RESULTS);
  lua_setfield(L, -2, "results");
  lua_pushvalue(L, MAP_FAILURES);
  lua_setfield(L, -2, "failures");
  return lua_error(L);
}

/* Waits for the next event: a transfer done, a timer due, or a tick; then resumes whom it woke. */
static void sched_wait(lua_State *L, struct map *m) {
  struct http_loop *loop = http_loop_get(L);
  double now = http_now_ms(), wait = SCHED_TICK_MS;
  int i, io = 0;
  for (i = 0; i < m->ntasks; i++) {
    struct task *task = &m->tasks[i];
    if (task->co == NULL || !sched_check_task(L, m, task)) continue;
    if (task->state == TASK_WAIT_IO) {
      if (task->xfer->state != HTTP_RUNNING) wait = 0; /* done already: no wait */
      io = 1;
    }
    if (task->state == TASK_WAIT_TIME && task->wake_ms - now < wait) wait = task->wake_ms - now;
  }
  if (wait < 0) wait = 0;
  if (io)
    http_step(loop, (int)wait);
  else if (wait > 0)
    http_sleep(wait);
  if (interrupt_pending()) return; /* the caller stops every task; none is resumed to fail */
  /* The tasks' own transfers say when they are done; the loop's queue is not needed here. */
  while (http_next_done(loop) != NULL) continue;
  now = http_now_ms();
  for (i = 0; i < m->ntasks; i++) {
    struct task *task = &m->tasks[i];
    if (task->co == NULL) continue;
    if ((task->state == TASK_WAIT_IO && (task->xfer == NULL || task->xfer->state != HTTP_RUNNING)) ||
        (task->state == TASK_WAIT_TIME && task->wake_ms <= now))
      sched_resume(L, m, task, 0);
  }
}

/* __close of the map state: every task left is stopped, and the next map may run. */
static int sched_map_close(lua_State *L) {
  struct map *m = lua_touserdata(L, 1);
  int i;
  if (m->closed) return 0;
  m->closed = 1;
  m->current = NULL;
  interrupt_release(&m->sig);
  for (i = 0; i < m->ntasks; i++)
    if (m->tasks[i].co != NULL) sched_free_task(L, 1, &m->tasks[i]);
  if (sched_active(L) == m) {
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &sched_active_key);
  }
  return 0;
}

static int sched_check_options(lua_State *L, struct map *m, lua_Integer *concurrency) {
  lua_pushnil(L);
  while (lua_next(L, MAP_OPTS) != 0) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    if (strcmp(k, "concurrency") == 0) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > SCHED_MAX_CONCURRENCY)
        return luaL_error(L, "telnyx.map: concurrency must be an integer from 1 to %d", SCHED_MAX_CONCURRENCY);
      *concurrency = lua_tointeger(L, -1);
    } else if (strcmp(k, "progress") == 0) {
      m->progress = lua_toboolean(L, -1) && isatty(STDERR_FILENO);
    } else {
      lua_pushvalue(L, -2);
      return luaL_error(L, "telnyx.map: unknown option '%s'", luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* telnyx.map(items, fn [, {concurrency=, progress=}]) -> results (n = #items), failures */
static int sched_map(lua_State *L) {
  struct map opts, *m;
  lua_Integer concurrency = SCHED_DEFAULT_CONCURRENCY, total;
  int i, ntasks;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  /* One map at a time: one inside a task, or inside a coroutine a task made, would take the
     outer map's transfers as its own. */
  if (sched_active(L) != NULL)
    return luaL_error(L, "telnyx.map cannot run inside a telnyx.map task (nor in a coroutine or "
                         "function a task runs)");
  memset(&opts, 0, sizeof opts);
  if (lua_istable(L, MAP_OPTS)) sched_check_options(L, &opts, &concurrency);
  total = (lua_Integer)lua_rawlen(L, MAP_ITEMS);
  ntasks = (int)(concurrency < total ? concurrency : (total > 0 ? total : 1));
  /* MAP_RESULTS. results.n is the number of items (a failed item's slot is nil, so walk 1..n),
     read through its metatable so that pairs, # and ipairs over results see only the items. */
  lua_createtable(L, (int)total, 0);
  lua_createtable(L, 0, 1);
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, total);
  lua_setfield(L, -2, "n");
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_newtable(L);                   /* MAP_FAILURES */
  m = lua_newuserdatauv(L, sizeof *m + sizeof(struct task) * (size_t)ntasks, 1); /* MAP_STATE */
  memset(m, 0, sizeof *m + sizeof(struct task) * (size_t)ntasks);
  m->ntasks = ntasks;
  m->total = total;
  m->next = 1;
  m->progress = opts.progress;
  m->started_ms = http_now_ms();
  lua_createtable(L, ntasks, 0); /* the anchors of the tasks' coroutines */
  lua_setiuservalue(L, MAP_STATE, 1);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, sched_map_close);
  lua_setfield(L, -2, "__close");
  lua_setmetatable(L, MAP_STATE);
  lua_toclose(L, MAP_STATE);
  lua_pushvalue(L, MAP_STATE);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &sched_active_key);
  interrupt_catch(&m->sig); /* released by __close, however the map ends */
  while (m->done < m->total) {
    if (interrupt_pending()) return sched_interrupted(L, m);
    for (i = 0; i < m->ntasks && m->next <= m->total && !interrupt_pending(); i++)
      if (m->tasks[i].co == NULL) sched_start(L, m, &m->tasks[i]);
    if (m->done < m->total && !interrupt_pending()) sched_wait(L, m);
    if (m->progress) sched_draw_progress(m, 0);
  }
  if (m->progress) sched_draw_progress(m, 1);
  lua_pushvalue(L, MAP_RESULTS);
  lua_pushvalue(L, MAP_FAILURES);
  return 2;
}

void sched_open(lua_State *L) { lua_pushcfunction(L, sched_map); }
