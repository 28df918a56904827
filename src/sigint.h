#ifndef TELNYX_SIGINT_H
#define TELNYX_SIGINT_H

#include <signal.h>

#include <lua.h>

/*
 * Ctrl-C wherever the module waits or a script computes, also in stock lua5.4, whose own
 * SIGINT handler (lua.c's laction) only sets a hook on the main thread: a hook cannot fire
 * inside a blocking libcurl transfer, nor in a coroutine created before it was set.
 *
 * - sigint_catch/sigint_release bracket a blocking wait: in between, SIGINT raises the
 *   interrupt flag (interrupt.h), so the transfer's progress callback aborts it and the caller
 *   raises "interrupted!"; release puts back whatever handler was there (lua.c's, the
 *   host's), so outside the wait the interpreter behaves as it always did. A SIGINT that is
 *   ignored (a background job of a non-interactive shell) stays ignored.
 * - sigint_push_watch pushes telnyx._watch_interrupts(co), used by telnyx.cli.main for the
 *   coroutine it runs a script in.
 */
struct sigint_saved {
  struct sigaction old;
  int installed;
};

void sigint_catch(struct sigint_saved *saved);
void sigint_release(struct sigint_saved *saved);

/*
 * Pushes watch(co): sets a count hook on coroutine co (inherited by the coroutines it creates,
 * such as telnyx.map's tasks) that raises "interrupted!" once the flag is up, outside a
 * telnyx.map (while one runs its scheduler reports it for every task, see interrupt.h: the
 * hook yields a task back to it at once, and elsewhere, in a coroutine a task made or where
 * no yield is allowed, raises "interrupted!" and leaves the flag up for it); and
 * makes SIGINT raise the flag for the rest of the process, once (SA_RESETHAND: a second
 * Ctrl-C kills, as with lua.c). For scripts, which end with os.exit.
 */
void sigint_push_watch(lua_State *L);

/*
 * Gives a telnyx.map task's coroutine watch's hook when it has no hook of its own (a map run
 * outside cli.main: at the REPL, in lua5.4 -e), so Ctrl-C stops a task's CPU-bound code too.
 */
void sigint_watch_task(lua_State *co);

#endif
