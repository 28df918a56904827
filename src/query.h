#ifndef TELNYX_QUERY_H
#define TELNYX_QUERY_H

#include <stddef.h>

#include <lua.h>

#include "buf.h"

/* Appends s percent-encoded: everything but RFC 3986 unreserved characters becomes %XX. */
void query_add_escaped(lua_State *L, struct buf *b, const char *s, size_t n);

/*
 * Appends the query table at `idx` as the API's deepObject style, keys sorted:
 * {filter={ip_address="x"}, page={size=5}} -> "filter%5Bip_address%5D=x&page%5Bsize%5D=5".
 * Flat bracket keys pass through, arrays are comma-joined, booleans are words. Raises a clear
 * error for a value that cannot be a query parameter.
 */
void query_add_table(lua_State *L, struct buf *b, int idx);

/* Appends one path segment for an id: percent-encoded, so it can never reach another path.
   Raises for "." and "..": dot segments a server resolves, even when sent as %2E. */
void query_add_path_segment(lua_State *L, struct buf *b, const char *s, size_t n);

/* The first dot segment ("." or "..", dots also as %2E/%2e) of the path, or NULL if none. */
const char *query_find_dot_segment(const char *path, size_t n);

#endif
