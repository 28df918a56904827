/* Registers the Lua files compiled into the binary as package.preload loaders. */
#include <lauxlib.h>

#include "embed.h"

/* The loader of embedded module number upvalue 1: loads the source in text mode and runs it. */
static int embed_load(lua_State *L) {
  const struct embed_module *m = &embed_modules[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbufferx(L, (const char *)m->source, m->size, m->chunkname, "t") != LUA_OK)
    return lua_error(L);
  lua_pushstring(L, m->name);
  lua_pushstring(L, m->chunkname + 1); /* loader data, as the file searcher passes the path */
  lua_call(L, 2, 1);
  return 1;
}

void embed_preload(lua_State *L) {
  lua_Integer i;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (i = 0; embed_modules[i].name != NULL; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, embed_load, 1);
    lua_setfield(L, -2, embed_modules[i].name);
  }
  lua_pop(L, 1);
}
