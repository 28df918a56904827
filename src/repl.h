#ifndef TELNYX_REPL_H
#define TELNYX_REPL_H

#include <lua.h>

/*
 * Runs the interactive loop until end of input; `docall` runs a chunk protected. Returns 0,
 * with a message on stderr, when GNU readline cannot be loaded; 1 otherwise.
 */
int repl_run(lua_State *L, int (*docall)(lua_State *L, int narg, int nres));

#endif
