#ifndef TELNYX_EMBED_H
#define TELNYX_EMBED_H

#include <stddef.h>

#include <lua.h>

/*
 * The Lua files of lua/telnyx/ (hand-written modules and the generated API tables), compiled
 * into the binary by the build (build/gen/embedded.c). Hundreds of them, most needed only when
 * their resource (or help) is used: so they hold no pointers (nothing for the dynamic loader
 * to relocate at start), sit in one byte array, are sorted by name, and are found when
 * required, at no cost to a start that requires none.
 */
struct embed_module {
  char name[64];        /* "telnyx.api.calls"; its chunkname "@lua/telnyx/api/calls.lua" */
  size_t offset, size;  /* in embed_data */
  char mode;            /* 't' source; 'b' a generated API table, precompiled by the build */
};
extern const struct embed_module embed_modules[];
extern const size_t embed_module_count;
extern const unsigned char embed_data[];

/* Adds a package.searchers entry, right after the preload one, that finds embedded modules. */
void embed_open(lua_State *L);

#endif
