/* The Ctrl-C flag: see interrupt.h for who reads it, who takes it and who raises it. */
#include <signal.h>
#include <stddef.h>

#include "interrupt.h"

/* Set from a signal handler, so it cannot live in Lua state. */
static volatile sig_atomic_t interrupt_flag = 0;

void interrupt_raise(void) { interrupt_flag = 1; }

int interrupt_pending(void) { return interrupt_flag != 0; }

int interrupt_take(void) {
  if (interrupt_flag == 0) return 0;
  interrupt_flag = 0;
  return 1;
}

/* Only raises the flag (async-signal-safe): whoever waits or runs Lua looks at it. */
static void interrupt_on_signal(int sig) {
  (void)sig;
  interrupt_raise();
}

static int interrupt_install(struct sigaction *old, int flags) {
  struct sigaction sa;
  if (sigaction(SIGINT, NULL, old) != 0 || old->sa_handler == SIG_IGN) return 0;
  sa.sa_handler = interrupt_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = flags;
  return sigaction(SIGINT, &sa, NULL) == 0;
}

void interrupt_catch(struct interrupt_saved *saved) { saved->installed = interrupt_install(&saved->old, 0); }

void interrupt_release(struct interrupt_saved *saved) {
  if (saved->installed) sigaction(SIGINT, &saved->old, NULL);
  saved->installed = 0;
}

void interrupt_catch_once(void) {
  struct sigaction old;
  (void)interrupt_install(&old, SA_RESETHAND); /* for good: nothing to restore before os.exit */
}
