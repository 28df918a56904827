#ifndef TELNYX_EMBED_H
#define TELNYX_EMBED_H

#include <stddef.h>

#include <lua.h>

/*
 * The Lua files of lua/telnyx/ (hand-written modules and the generated API tables), built into
 * the binary (build/gen/embedded.c, scripts/build/embed-lua.lua). Hundreds of them, most needed
 * only when their resource (or help) is used, so:
 * - the index holds no pointers (nothing for the dynamic loader to relocate at start), is
 *   sorted by name and is searched only when a module is required;
 * - the bytes sit in a section of the file that no segment maps (EMBED_SECTION) and are read
 *   from the file when a module is required. Read through a mapping, the kernel brings in the
 *   neighbouring pages too (whole large folios): the first resource used cost 640 KB of
 *   resident memory for a 1.6 KB table.
 */
#define EMBED_SECTION ".telnyx_lua"
#define EMBED_HEADER_SIZE 16 /* "TLXLUA01" and a stamp of the data, before it in the section */

struct embed_module {
  char name[64];        /* "telnyx.api.calls"; its chunkname "@lua/telnyx/api/calls.lua" */
  size_t offset, size;  /* in the data, after the header */
  char mode;            /* 't' source; 'b' a generated API table, precompiled by the build */
};
extern const struct embed_module embed_modules[];
extern const size_t embed_module_count;
extern const unsigned char embed_header[EMBED_HEADER_SIZE];
extern const size_t embed_data_size;

/* Adds a package.searchers entry, right after the preload one, that finds embedded modules. */
void embed_open(lua_State *L);

#endif
