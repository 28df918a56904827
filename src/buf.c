/* Growable byte buffers whose memory belongs to a userdata, so errors never leak them. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "buf.h"

#define BUF_MT "telnyx.buf"

static int buf_gc(lua_State *L) {
  struct buf *b = luaL_checkudata(L, 1, BUF_MT);
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  return 0;
}

struct buf *buf_new(lua_State *L) {
  struct buf *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  if (luaL_newmetatable(L, BUF_MT)) {
    lua_pushcfunction(L, buf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

void buf_add(lua_State *L, struct buf *b, const char *s, size_t n) {
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap - b->len < n) cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) luaL_error(L, "not enough memory");
    b->data = p;
    b->cap = cap;
  }
  if (n > 0) memcpy(b->data + b->len, s, n);
  b->len += n;
}

void buf_add_string(lua_State *L, struct buf *b, const char *s) { buf_add(L, b, s, strlen(s)); }

void buf_add_char(lua_State *L, struct buf *b, char c) { buf_add(L, b, &c, 1); }

void buf_push_result(lua_State *L, int idx) {
  struct buf *b;
  idx = lua_absindex(L, idx);
  b = luaL_checkudata(L, idx, BUF_MT);
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  lua_replace(L, idx);
}
