/*
 * A bare Lua host, linked as build/telnyx-lua is (Lua in whole and statically with its API
 * exported, libcurl, libm): it makes a state, opens the standard libraries and closes it, as any
 * Lua 5.4 interpreter does before running a line. Between the floor (a program linked with
 * libcurl) and telnyx-lua, it tells what of telnyx-lua's start is Lua's and what is its own.
 */
#include <lauxlib.h>
#include <lualib.h>

int main(void) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return 1;
  luaL_openlibs(L);
  lua_close(L);
  return 0;
}
