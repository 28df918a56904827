/*
 * Shared by the libFuzzer targets in spec/fuzz/ (see spec/fuzz/run.sh and `make fuzz`): one Lua
 * state with the telnyx module, made once and kept across inputs, and a check that aborts
 * (a finding) with a message when a property does not hold.
 */
#ifndef TELNYX_FUZZ_H
#define TELNYX_FUZZ_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "telnyx.h"

/* Where findings are described: fd 2 as it was at start (a target may silence `stderr`). */
static inline FILE *fuzz_out(void) {
  static FILE *out;
  if (out == NULL) {
    int fd = dup(2);
    out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) out = stdout;
    setvbuf(out, NULL, _IONBF, 0);
  }
  return out;
}

#define FUZZ_CHECK(cond, what)                                                            \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      fprintf(fuzz_out(), "fuzz: property violated at %s:%d: %s\n", __FILE__, __LINE__, \
              (what));                                                                    \
      abort();                                                                            \
    }                                                                                     \
  } while (0)

/*
 * Coverage of Lua code: the Lua library is not instrumented, so libFuzzer would see nothing of
 * a harness that runs Lua (the allowlist parser). A line hook maps each (chunk, line, previous
 * line) to a counter in libFuzzer's extra-counters section, which it reads as coverage.
 */
#define FUZZ_LUA_COUNTERS (1 << 16)
__attribute__((used, section("__libfuzzer_extra_counters")))
static unsigned char fuzz_lua_counters[FUZZ_LUA_COUNTERS];

static inline void fuzz_line_hook(lua_State *L, lua_Debug *ar) {
  static size_t previous;
  size_t here;
  if (!lua_getinfo(L, "S", ar)) return;
  here = ((size_t)ar->source * 31u + (size_t)ar->currentline * 2654435761u) % FUZZ_LUA_COUNTERS;
  fuzz_lua_counters[(here ^ previous) % FUZZ_LUA_COUNTERS]++;
  previous = here >> 1;
}

/* Turns Lua line coverage on for the state (see fuzz_line_hook). */
static inline void fuzz_cover_lua(lua_State *L) { lua_sethook(L, fuzz_line_hook, LUA_MASKLINE, 0); }

/* The state: standard libraries, and the telnyx module as the global `telnyx`. */
static inline lua_State *fuzz_state(void) {
  static lua_State *L;
  if (L == NULL) {
    fuzz_out();
    L = luaL_newstate();
    FUZZ_CHECK(L != NULL, "cannot create a Lua state");
    luaL_openlibs(L);
    luaL_requiref(L, "telnyx", luaopen_telnyx, 1);
    lua_pop(L, 1);
  }
  return L;
}

/*
 * Loads the Lua harness file `path` (relative to the repository root, where spec/fuzz/run.sh
 * runs the targets) and keeps the function it returns in the registry under `key`.
 */
static inline void fuzz_load_harness(lua_State *L, const char *path, const void *key) {
  if (luaL_loadfilex(L, path, "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
    fprintf(fuzz_out(), "fuzz: cannot load %s: %s\n", path, lua_tostring(L, -1));
    abort();
  }
  FUZZ_CHECK(lua_isfunction(L, -1), "a harness returns a function");
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* Calls the harness under `key` with the input as a string; any error it raises is a finding. */
static inline void fuzz_run_harness(lua_State *L, const void *key, const char *data, size_t size) {
  int top = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  lua_pushlstring(L, data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(fuzz_out(), "fuzz: the harness failed: %s\n", luaL_tolstring(L, -1, NULL));
    abort();
  }
  FUZZ_CHECK(lua_gettop(L) == top, "the stack is balanced");
}

#endif
