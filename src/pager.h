#ifndef TELNYX_PAGER_H
#define TELNYX_PAGER_H

#include <lua.h>

#define PAGER_MT "telnyx.Pager"

/*
 * Pushes a new pager for a list operation: nothing is fetched yet. The state table at
 * `state_idx` ({client=, path=, params=, opts=, resource=, method=}) becomes its user value.
 * The first call makes the Pager metatable, with the iteration written in lua/telnyx/pager.lua.
 */
void pager_new(lua_State *L, int state_idx);

#endif
