#ifndef TELNYX_INTERRUPT_H
#define TELNYX_INTERRUPT_H

#include <signal.h>

/*
 * Ctrl-C, process-wide: a flag that a signal handler raises and the module's loops read. It
 * cannot live in a Lua state (a handler gets no context), so it is the one C global of the
 * module. Includes nothing of the project: every unit may use it.
 *
 * The rule: whoever raises the Lua error for an interrupt takes the flag (interrupt_take), in
 * the same step, so exactly one error reports it and no later check reports it again. Code
 * that only stops work (a transfer's progress callback, a wait) reads interrupt_pending and
 * leaves the flag to whoever raises. Hence:
 * - a call outside telnyx.map takes it and raises "interrupted!";
 * - inside a telnyx.map task a call does not raise: it yields to the scheduler, which stops
 *   every task, takes the flag and raises the one InterruptedError;
 * - the host's hook takes it and raises "interrupted!" (lua.c's way, for running Lua code);
 * - at the REPL prompt, where no Lua runs, cancelling the line takes it;
 * - one that arrived after the last check (nobody raised for it) is taken and dropped by the
 *   host before it runs the next chunk or reads the next line.
 */

/* Sets the flag. Async-signal-safe: for signal handlers. */
void interrupt_raise(void);

/* Whether an interrupt is pending; leaves the flag as it is. */
int interrupt_pending(void);

/* Test-and-clear: whether an interrupt was pending; it is not any more. */
int interrupt_take(void);

/*
 * Who turns SIGINT into the flag, also in stock lua5.4, whose own handler (lua.c's laction)
 * only sets a hook, which cannot fire inside a blocking libcurl transfer:
 * interrupt_catch/interrupt_release bracket a blocking wait; in between SIGINT raises the flag
 * (so the transfer's progress callback aborts it), and release puts back whatever handler was
 * there (lua.c's, the host's). A SIGINT that is ignored (a background job of a non-interactive
 * shell) stays ignored. interrupt_catch_once makes SIGINT raise the flag for the rest of the
 * process, once (a second Ctrl-C kills, as with lua.c): for scripts, which end with os.exit.
 */
struct interrupt_saved {
  struct sigaction old;
  int installed;
};
void interrupt_catch(struct interrupt_saved *saved);
void interrupt_release(struct interrupt_saved *saved);
void interrupt_catch_once(void);

#endif
