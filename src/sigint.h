#ifndef TELNYX_SIGINT_H
#define TELNYX_SIGINT_H

#include <lua.h>

/*
 * Ctrl-C in a script computing: lua.c's SIGINT handler (and the host's) sets a hook on the
 * main thread only, which a coroutine created before it does not have; telnyx.cli.main runs
 * a script in one. (Ctrl-C while the module waits is interrupt.h's interrupt_catch.)
 *
 * Pushes watch(co), telnyx._watch_interrupts: sets a count hook on coroutine co (inherited by
 * the coroutines it creates, such as telnyx.map's tasks) that raises "interrupted!" once the
 * flag is up, outside a telnyx.map task (inside one the scheduler reports it for every task,
 * see interrupt.h); and makes SIGINT raise the flag for the rest of the process, once.
 */
void sigint_push_watch(lua_State *L);

#endif
