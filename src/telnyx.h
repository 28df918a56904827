#ifndef TELNYX_H
#define TELNYX_H

#include <lua.h>

#ifndef TELNYX_VERSION
#error "TELNYX_VERSION must be defined by the build"
#endif

/* Opens the module: the table returned by require "telnyx". */
int luaopen_telnyx(lua_State *L);

#endif
