/* The Ctrl-C flag: see interrupt.h for who reads it and who takes it. */
#include <signal.h>

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
