#ifndef TELNYX_EMBED_H
#define TELNYX_EMBED_H

#include <stddef.h>

#include <lua.h>

/* One Lua file of lua/telnyx/, compiled into the binary by the build (build/gen/embedded.c). */
struct embed_module {
  const char *name;      /* module name for require, e.g. "telnyx.pager" */
  const char *chunkname; /* "@lua/telnyx/pager.lua", so errors point at the real file */
  const unsigned char *source;
  size_t size;
};

/* The generated list, ended by an entry whose name is NULL. */
extern const struct embed_module embed_modules[];

/* Registers every embedded module in package.preload. */
void embed_preload(lua_State *L);

#endif
