#ifndef TELNYX_SIGINT_H
#define TELNYX_SIGINT_H

#include <lua.h>

/*
 * Ctrl-C in a script computing: lua.c's SIGINT handler (and the host's) sets a hook on the
 * main thread only, which a coroutine created before it does not have; telnyx.cli.main runs
 * a script in one. (Ctrl-C while the module waits is interrupt.h's interrupt_catch; in a
 * telnyx.map task, sched.h's sched_watch.)
 *
 * Pushes watch(co), telnyx._watch_interrupts: gives coroutine co (and the coroutines it
 * creates, which inherit it) sched_watch's hook, and makes SIGINT raise the flag for the rest
 * of the process, once (a second Ctrl-C kills, as with lua.c): for scripts, which end with
 * os.exit.
 */
void sigint_push_watch(lua_State *L);

#endif
