/* Finds the Lua files compiled into the binary when they are required (see embed.h). */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "embed.h"

/* Loads a chunk in its mode (text for sources, binary for the precompiled API tables) and runs
   it as require would: with the module name and the file name. */
static int embed_run(lua_State *L, const char *name, const char *chunkname,
                     const unsigned char *data, size_t size, char mode) {
  const char *m = mode == 'b' ? "b" : "t";
  if (luaL_loadbufferx(L, (const char *)data, size, chunkname, m) != LUA_OK) return lua_error(L);
  lua_pushstring(L, name);
  lua_pushstring(L, chunkname + 1); /* loader data, as the file searcher passes the path */
  lua_call(L, 2, 1);
  return 1;
}

/* The loader of embedded module number upvalue 1: "telnyx.api.calls" was
   lua/telnyx/api/calls.lua. */
static int embed_load(lua_State *L) {
  const struct embed_module *m = &embed_modules[lua_tointeger(L, lua_upvalueindex(1))];
  const char *chunkname;
  luaL_gsub(L, m->name, ".", "/");
  chunkname = lua_pushfstring(L, "@lua/%s.lua", lua_tostring(L, -1));
  return embed_run(L, m->name, chunkname, embed_data + m->offset, m->size, m->mode);
}

static int embed_compare(const void *key, const void *entry) {
  return strcmp(key, ((const struct embed_module *)entry)->name);
}

/* package.searchers entry: an embedded module by name (binary search), or why not. */
static int embed_search(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const struct embed_module *m =
      bsearch(name, embed_modules, embed_module_count, sizeof *embed_modules, embed_compare);
  if (m == NULL) {
    lua_pushfstring(L, "\n\tno embedded module '%s'", name);
    return 1;
  }
  lua_pushinteger(L, m - embed_modules);
  lua_pushcclosure(L, embed_load, 1);
  lua_pushfstring(L, "embedded %s", name);
  return 2;
}

void embed_open(lua_State *L) {
  lua_Integer i, n;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "package") == LUA_TTABLE && lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = n; i >= 2; i--) {
      lua_rawgeti(L, -1, i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, embed_search);
    lua_rawseti(L, -2, n >= 1 ? 2 : 1);
  }
  lua_pop(L, 3);
}
