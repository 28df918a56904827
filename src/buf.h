#ifndef TELNYX_BUF_H
#define TELNYX_BUF_H

#include <stddef.h>

#include <lua.h>

/*
 * A growable byte buffer owned by a userdata on the Lua stack, for building text while the
 * stack is in use (luaL_Buffer forbids that): if an error is raised midway, the userdata's
 * finalizer frees the memory.
 */
struct buf {
  char *data;
  size_t len, cap;
};

/* Pushes a new empty buffer userdata and returns it. */
struct buf *buf_new(lua_State *L);

void buf_add(lua_State *L, struct buf *b, const char *s, size_t n);
void buf_add_string(lua_State *L, struct buf *b, const char *s);
void buf_add_char(lua_State *L, struct buf *b, char c);

/* Replaces the buffer userdata at `idx` with the string it holds, freeing the memory now. */
void buf_push_result(lua_State *L, int idx);

#define buf_add_literal(L, b, s) buf_add(L, b, s, sizeof(s) - 1)

#endif
