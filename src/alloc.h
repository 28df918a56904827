#ifndef TELNYX_ALLOC_H
#define TELNYX_ALLOC_H

#include <lua.h>

/* A Lua allocator that serves small blocks from per-size free lists (see alloc.c). */
struct alloc_pool;

/* A new, empty pool, or NULL when out of memory. */
struct alloc_pool *alloc_create(void);

/* The lua_Alloc function; its ud is the pool. Plain realloc/free (the pool unused) in a
   sanitizer build or under valgrind, so memory checkers see every block. */
lua_Alloc alloc_function(void);

/* Frees every block of the pool; call after lua_close. */
void alloc_destroy(struct alloc_pool *pool);

#endif
