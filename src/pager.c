/*
 * The pager userdata of list calls. Its state is a Lua table in its user value; the iteration
 * is in lua/telnyx/pager.lua, in Lua, so a page fetch inside a telnyx.map task can yield.
 */
#include <lauxlib.h>

#include "errors.h"
#include "pager.h"

/* The pager's state table, for pager.lua only. */
static int pager_state(lua_State *L) {
  luaL_checkudata(L, 1, PAGER_MT);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

/* (message, url): raises the contract's error object for a 2xx list answer that is no page. */
static int pager_bad_page(lua_State *L) {
  errors_push(L, "APIStatusError", 0, luaL_checkstring(L, 1));
  lua_pushliteral(L, "GET");
  lua_setfield(L, -2, "method");
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "url");
  return lua_error(L);
}

/*
 * Makes the pager metatable and has lua/telnyx/pager.lua fill it. Done by the first list call,
 * not by require "telnyx": compiling pager.lua is a measurable part of a start (see "Startup" in
 * scripts/bench/README.md), which a script that lists nothing (or the REPL, until it does)
 * need not pay.
 */
static void pager_install(lua_State *L) {
  luaL_newmetatable(L, PAGER_MT);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx.pager");
  lua_call(L, 1, 1); /* returns install(metatable, state_of, bad_page) */
  lua_pushvalue(L, -2);
  lua_pushcfunction(L, pager_state);
  lua_pushcfunction(L, pager_bad_page);
  lua_call(L, 3, 0);
  lua_pop(L, 1);
}

void pager_new(lua_State *L, int state_idx) {
  state_idx = lua_absindex(L, state_idx);
  luaL_checkstack(L, 6, "making a pager");
  if (luaL_getmetatable(L, PAGER_MT) == LUA_TNIL) pager_install(L);
  lua_pop(L, 1);
  lua_newuserdatauv(L, 0, 1);
  luaL_setmetatable(L, PAGER_MT);
  lua_pushvalue(L, state_idx);
  lua_setiuservalue(L, -2, 1);
  lua_remove(L, state_idx);
}
