#ifndef TELNYX_CLIENT_H
#define TELNYX_CLIENT_H

#include <lua.h>

#define CLIENT_MT "telnyx.Client"
#define RESOURCE_MT "telnyx.Resource"

/* Creates the Client, Resource and call metatables; pushes telnyx.new. */
void client_open(lua_State *L);

/* Pushes telnyx.describe, which tells the REPL what a client, resource or method is. */
void client_push_describe(lua_State *L);

#endif
