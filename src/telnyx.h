#ifndef TELNYX_H
#define TELNYX_H

#include <lua.h>

#ifndef TELNYX_VERSION
#error "TELNYX_VERSION must be defined by the build"
#endif

/* Opens the module: the table returned by require "telnyx". */
int luaopen_telnyx(lua_State *L);

/*
 * Ctrl-C support for the host: async-signal-safe, callable from a signal handler. A transfer
 * in progress is aborted by its progress callback, and no new one starts until cleared.
 */
void telnyx_interrupt(void);
void telnyx_clear_interrupt(void);
int telnyx_interrupted(void);

#endif
