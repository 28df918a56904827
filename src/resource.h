#ifndef TELNYX_RESOURCE_H
#define TELNYX_RESOURCE_H

#include <lua.h>

#define RESOURCE_MT "telnyx.Resource"

/* Creates the Resource metatable. */
void resource_open(lua_State *L);

/* The Client's lookup of other keys (see client_open): client.<resource>; raises for an
   unknown name, with the nearest valid one. */
int resource_lookup(lua_State *L);

/* Pushes telnyx.describe, which tells the REPL what a client, resource or method is. */
void resource_push_describe(lua_State *L);

/* Pushes telnyx._bind_op (internal, for specs: binds an operation entry as a method). */
void resource_push_bind_op(lua_State *L);

#endif
