/*
 * The host's Lua allocator. A page of a list makes about 2,000 small objects (strings, tables,
 * their hash parts) and the collector frees them all a moment later; glibc's malloc handles
 * such bursts in its slow paths (its per-thread cache holds 7 blocks a size). Here small
 * blocks come from free lists, one per 16-byte size class, carved from 64 KiB chunks: taking
 * or returning a block is a few instructions and reuses memory that is still in cache.
 * Lua tells the allocator the size of every block it frees or resizes, so blocks carry no
 * header. Larger blocks go to malloc. Chunks are kept until alloc_destroy: the free lists
 * hold what the peak needed, as malloc's heap would.
 *
 * Chunks are mapped with their pages populated in the same call. Taken from malloc, each page
 * of a chunk would be faulted in when first touched, which costs more than a page populated by
 * mmap (build/bench/faults measures both), and a list walk takes many such faults while its
 * heap grows. The first chunk is the exception: a script that makes no request touches only a
 * few of its pages, and populating all of them slowed every start. What was measured, and
 * how: scripts/bench/README.md ("List-all and stream CPU", "Startup").
 *
 * Memory checkers see only what goes through malloc: a block reused from a free list is never
 * "freed" to them. So the allocator steps aside, every block to realloc and free, in a build
 * with a sanitizer (known at compile time) and in a process run under valgrind (known at run
 * time), with no setting needed.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "alloc.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_HWADDRESS__)
#define ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(hwaddress_sanitizer)
#define ALLOC_SANITIZED 1
#endif
#endif
#ifndef ALLOC_SANITIZED
#define ALLOC_SANITIZED 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ALLOC_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef ALLOC_ON_VALGRIND
#define ALLOC_ON_VALGRIND() 0
#endif

#define ALLOC_GRAIN 16u       /* size classes step, and the alignment of every block */
#define ALLOC_SMALL_MAX 512u  /* largest block served from the free lists */
#define ALLOC_CLASSES (ALLOC_SMALL_MAX / ALLOC_GRAIN)
#define ALLOC_CHUNK (64u * 1024u)

#ifdef MAP_POPULATE
#define ALLOC_MAP_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE)
#else
#define ALLOC_MAP_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS)
#endif

struct alloc_chunk {
  struct alloc_chunk *next;
  /* Blocks follow, aligned to ALLOC_GRAIN. */
};

struct alloc_free {
  struct alloc_free *next;
};

struct alloc_pool {
  struct alloc_free *free[ALLOC_CLASSES]; /* free blocks of each class */
  struct alloc_chunk *chunks;
  char *cur, *end; /* the unused rest of the newest chunk */
};

#define ALLOC_HEADER ((sizeof(struct alloc_chunk) + ALLOC_GRAIN - 1) / ALLOC_GRAIN * ALLOC_GRAIN)

static size_t alloc_class(size_t size) { return (size - 1) / ALLOC_GRAIN; }

static void *alloc_small(struct alloc_pool *pool, size_t size) {
  size_t c = alloc_class(size), bytes = (c + 1) * ALLOC_GRAIN;
  struct alloc_free *block = pool->free[c];
  if (block != NULL) {
    pool->free[c] = block->next;
    return block;
  }
  if ((size_t)(pool->end - pool->cur) < bytes) {
    /* Page-aligned, so every block is aligned to ALLOC_GRAIN. */
    int flags = pool->chunks != NULL ? ALLOC_MAP_FLAGS : MAP_PRIVATE | MAP_ANONYMOUS;
    struct alloc_chunk *chunk = mmap(NULL, ALLOC_CHUNK, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (chunk == MAP_FAILED) return NULL;
    chunk->next = pool->chunks;
    pool->chunks = chunk;
    pool->cur = (char *)chunk + ALLOC_HEADER;
    pool->end = (char *)chunk + ALLOC_CHUNK;
  }
  pool->cur += bytes;
  return pool->cur - bytes;
}

static void alloc_free_small(struct alloc_pool *pool, void *ptr, size_t size) {
  struct alloc_free *block = ptr;
  size_t c = alloc_class(size);
  block->next = pool->free[c];
  pool->free[c] = block;
}

/* lua_Alloc: osize is the block's size whenever ptr is not NULL (Lua 5.4 manual, 4.6). */
static void *alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize) {
  struct alloc_pool *pool = ud;
  int was_small = ptr != NULL && osize <= ALLOC_SMALL_MAX;
  void *block;
  if (nsize == 0) {
    if (was_small)
      alloc_free_small(pool, ptr, osize);
    else
      free(ptr);
    return NULL;
  }
  if (ptr == NULL) return nsize <= ALLOC_SMALL_MAX ? alloc_small(pool, nsize) : malloc(nsize);
  if (was_small && nsize <= ALLOC_SMALL_MAX && alloc_class(osize) == alloc_class(nsize)) return ptr;
  if (!was_small && nsize > ALLOC_SMALL_MAX) return realloc(ptr, nsize);
  block = nsize <= ALLOC_SMALL_MAX ? alloc_small(pool, nsize) : malloc(nsize);
  if (block == NULL) {
    /* Lua counts on shrinking never failing: keep the larger block. Freed later under its new
       size, it joins a smaller class (or, if it came from malloc, stays until exit): both safe. */
    return nsize < osize ? ptr : NULL;
  }
  memcpy(block, ptr, osize < nsize ? osize : nsize);
  if (was_small)
    alloc_free_small(pool, ptr, osize);
  else
    free(ptr);
  return block;
}

/* lua_Alloc of a checked process: malloc's own blocks, which the checker follows one by one. */
static void *alloc_plain(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud, (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

/*
 * Whether a memory checker watches this process. Valgrind's client request answers when the
 * headers were there at build time; its preload library, which it puts in LD_PRELOAD of the
 * program it runs (and takes out for the children it does not follow), answers otherwise.
 */
static int alloc_checked(void) {
  const char *preload = getenv("LD_PRELOAD");
  if (ALLOC_SANITIZED || ALLOC_ON_VALGRIND()) return 1;
  return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

struct alloc_pool *alloc_create(void) { return calloc(1, sizeof(struct alloc_pool)); }

lua_Alloc alloc_function(const char *choice) {
  if (choice != NULL && strcmp(choice, "malloc") == 0) return alloc_plain;
  if (choice != NULL && strcmp(choice, "pool") == 0) return alloc_lua;
  return alloc_checked() ? alloc_plain : alloc_lua;
}

void alloc_destroy(struct alloc_pool *pool) {
  struct alloc_chunk *chunk;
  if (pool == NULL) return;
  while ((chunk = pool->chunks) != NULL) {
    pool->chunks = chunk->next;
    munmap(chunk, ALLOC_CHUNK);
  }
  free(pool);
}
