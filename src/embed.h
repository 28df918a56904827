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
  char mode; /* 't' source; 'b' a generated API table, precompiled by the build */
};

/* The generated list, ended by an entry whose name is NULL. */
extern const struct embed_module embed_modules[];

/*
 * The generated per-resource API tables (lua/telnyx/api/<top>.lua, lua/telnyx/doc/<top>.lua):
 * hundreds of them, each needed only when its resource (or help) is used, so they hold no
 * pointers (nothing for the dynamic loader to relocate at start), sit in one byte array, are
 * sorted by name, and are found when required.
 */
struct embed_generated {
  char name[64];        /* "telnyx.api.calls"; its chunkname "@lua/telnyx/api/calls.lua" */
  size_t offset, size;  /* in embed_generated_data */
  char mode;            /* as embed_module's */
};
extern const struct embed_generated embed_generated[];
extern const size_t embed_generated_count;
extern const unsigned char embed_generated_data[];

/* Registers every embedded module in package.preload, and a package.searchers entry finding
   the generated ones. */
void embed_preload(lua_State *L);

#endif
