#ifndef TELNYX_INTERRUPT_H
#define TELNYX_INTERRUPT_H

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

#endif
