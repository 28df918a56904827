#ifndef TELNYX_ALLOC_H
#define TELNYX_ALLOC_H

#include <lua.h>

/* A Lua allocator that serves small blocks from per-size free lists (see alloc.c). */
struct alloc_pool;

/* A new, empty pool, or NULL when out of memory. */
struct alloc_pool *alloc_create(void);

/*
 * The lua_Alloc function; its ud is the pool. Plain realloc/free (the pool unused) in a
 * sanitizer build or under valgrind, so memory checkers see every block. `choice` (the
 * TELNYX_ALLOC setting, or NULL) overrides: "malloc" always plain, "pool" always the pool
 * (the bench counts the instructions of the allocator users get, under callgrind).
 */
lua_Alloc alloc_function(const char *choice);

/* Frees every block of the pool; call after lua_close. */
void alloc_destroy(struct alloc_pool *pool);

#endif
