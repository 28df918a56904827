/* Finds the Lua files built into the binary when they are required (see embed.h). */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "embed.h"

#define EMBED_FILE "telnyx.embed_file" /* registry: the open file holding the section */
#define EMBED_FILE_MT "telnyx.EmbedFile"

/* The file this code was loaded from, open, and where the modules' data starts in it. */
struct embed_file {
  int fd;
  off_t data;
};

static int embed_file_gc(lua_State *L) {
  struct embed_file *f = lua_touserdata(L, 1);
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
  return 0;
}

/* Reads exactly n bytes at off; 0, or -1 with errno (EIO for a file that ends early). */
static int embed_pread(int fd, void *p, size_t n, off_t off) {
  char *at = p;
  while (n > 0) {
    ssize_t got = pread(fd, at, n, off);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) errno = EIO;
      return -1;
    }
    at += got;
    off += got;
    n -= (size_t)got;
  }
  return 0;
}

struct embed_where {
  const void *addr;
  const char *path;
};

/* dl_iterate_phdr callback: the object whose loaded segments hold addr. The main program comes
   first with an empty name; it is read through /proc/self/exe, which stays the running file
   even when the path it ran from has been replaced. */
static int embed_find_object(struct dl_phdr_info *info, size_t size, void *data) {
  struct embed_where *w = data;
  uintptr_t addr = (uintptr_t)w->addr;
  int i;
  (void)size;
  for (i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && addr >= start && addr - start < ph->p_memsz) {
      w->path = info->dlpi_name[0] != '\0' ? info->dlpi_name : "/proc/self/exe";
      return 1;
    }
  }
  return 0;
}

/* Where EMBED_SECTION's data starts in the ELF file fd (after its header, checked against the
   index compiled in), or a message on the stack and -1. */
static off_t embed_locate(lua_State *L, int fd) {
  ElfW(Ehdr) eh;
  ElfW(Shdr) *sh, names;
  char *strtab;
  size_t i;
  unsigned char header[EMBED_HEADER_SIZE];
  if (embed_pread(fd, &eh, sizeof eh, 0) != 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum) {
    lua_pushliteral(L, "not an ELF file with sections");
    return -1;
  }
  sh = lua_newuserdatauv(L, eh.e_shnum * sizeof *sh, 0);
  if (embed_pread(fd, sh, eh.e_shnum * sizeof *sh, (off_t)eh.e_shoff) != 0) {
    lua_pushfstring(L, "section headers unreadable (%s)", strerror(errno));
    return -1;
  }
  names = sh[eh.e_shstrndx];
  if (names.sh_size == 0 || names.sh_size > 1 << 20) {
    lua_pushliteral(L, "no section names");
    return -1;
  }
  strtab = lua_newuserdatauv(L, names.sh_size + 1, 0);
  if (embed_pread(fd, strtab, names.sh_size, (off_t)names.sh_offset) != 0) {
    lua_pushfstring(L, "section names unreadable (%s)", strerror(errno));
    return -1;
  }
  strtab[names.sh_size] = '\0';
  for (i = 0; i < eh.e_shnum; i++) {
    if (sh[i].sh_name >= names.sh_size || strcmp(strtab + sh[i].sh_name, EMBED_SECTION) != 0)
      continue;
    if (sh[i].sh_size != EMBED_HEADER_SIZE + embed_data_size ||
        embed_pread(fd, header, sizeof header, (off_t)sh[i].sh_offset) != 0 ||
        memcmp(header, embed_header, sizeof header) != 0) {
      lua_pushliteral(L, "its " EMBED_SECTION " section is another build's (was it replaced?)");
      return -1;
    }
    lua_pop(L, 2);
    return (off_t)(sh[i].sh_offset + EMBED_HEADER_SIZE);
  }
  lua_pushliteral(L, "no " EMBED_SECTION " section (was it stripped of it?)");
  return -1;
}

/* The path of the file this code was loaded from, or NULL. */
static const char *embed_own_path(void) {
  struct embed_where where = { embed_modules, NULL }; /* an address in this object */
  return dl_iterate_phdr(embed_find_object, &where) ? where.path : NULL;
}

/* Opens path, finds the section in it and keeps it in the registry; pushes the embed_file. */
static struct embed_file *embed_file_open(lua_State *L, const char *path) {
  struct embed_file *f = lua_newuserdatauv(L, sizeof *f, 0);
  f->fd = -1;
  if (luaL_newmetatable(L, EMBED_FILE_MT)) {
    lua_pushcfunction(L, embed_file_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  f->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) luaL_error(L, "cannot open %s for its Lua modules: %s", path, strerror(errno));
  f->data = embed_locate(L, f->fd);
  if (f->data < 0) luaL_error(L, "cannot read the Lua modules of %s: %s", path, lua_tostring(L, -1));
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, EMBED_FILE);
  return f;
}

/* Pushes the embed_file. The binary opens /proc/self/exe when it first loads a module (a
   script that loads none opens nothing); telnyx.so opened its file when it was loaded
   (embed_open). */
static struct embed_file *embed_file(lua_State *L) {
  const char *path;
  if (lua_getfield(L, LUA_REGISTRYINDEX, EMBED_FILE) == LUA_TUSERDATA) return lua_touserdata(L, -1);
  lua_pop(L, 1);
  if ((path = embed_own_path()) == NULL) luaL_error(L, "cannot find the file telnyx was loaded from");
  return embed_file_open(L, path);
}

/* The loader of embedded module number upvalue 1: "telnyx.api.calls" was
   lua/telnyx/api/calls.lua. Loads the chunk in its mode (text for sources, binary for the
   precompiled API tables) and runs it as require would: with the module name and the file
   name. */
static int embed_load(lua_State *L) {
  const struct embed_module *m = &embed_modules[lua_tointeger(L, lua_upvalueindex(1))];
  struct embed_file *f = embed_file(L);
  const char *chunkname;
  void *ud;
  lua_Alloc alloc = lua_getallocf(L, &ud);
  char *bytes;
  int status, err;
  luaL_gsub(L, m->name, ".", "/");
  chunkname = lua_pushfstring(L, "@lua/%s.lua", lua_tostring(L, -1));
  /* The bytes live only while they load: taken from the state's allocator, not as a Lua
     object, they add no garbage for the collector to work off (a table can be 100 KB). */
  if ((bytes = alloc(ud, NULL, 0, m->size)) == NULL) return luaL_error(L, "not enough memory");
  if (embed_pread(f->fd, bytes, m->size, f->data + (off_t)m->offset) != 0) {
    err = errno;
    alloc(ud, bytes, m->size, 0);
    return luaL_error(L, "cannot read embedded module '%s': %s", m->name, strerror(err));
  }
  status = luaL_loadbufferx(L, bytes, m->size, chunkname, m->mode == 'b' ? "b" : "t");
  alloc(ud, bytes, m->size, 0);
  if (status != LUA_OK) return lua_error(L);
  lua_pushstring(L, m->name);
  lua_pushstring(L, chunkname + 1); /* loader data, as the file searcher passes the path */
  lua_call(L, 2, 1);
  return 1;
}

static int embed_compare(const void *key, const void *entry) {
  return strcmp(key, ((const struct embed_module *)entry)->name);
}

/* package.searchers entry: an embedded module by name (binary search), or why not. */
static int embed_search(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const struct embed_module *m =
      bsearch(name, embed_modules, embed_module_count, sizeof *embed_modules, embed_compare);
  if (m == NULL) {
    lua_pushfstring(L, "\n\tno embedded module '%s'", name);
    return 1;
  }
  lua_pushinteger(L, m - embed_modules);
  lua_pushcclosure(L, embed_load, 1);
  lua_pushfstring(L, "embedded %s", name);
  return 2;
}

void embed_open(lua_State *L) {
  lua_Integer i, n;
  const char *path = embed_own_path();
  /* telnyx.so is read through the path it was loaded from: opened now, it is the same file
     even if that path is replaced later (an upgrade while a script runs). The binary is read
     through /proc/self/exe, which always is. */
  if (path != NULL && strcmp(path, "/proc/self/exe") != 0) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, EMBED_FILE) != LUA_TUSERDATA) {
      lua_pop(L, 1);
      embed_file_open(L, path);
    }
    lua_pop(L, 1);
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "package") == LUA_TTABLE && lua_getfield(L, -1, "searchers") == LUA_TTABLE) {
    n = (lua_Integer)lua_rawlen(L, -1);
    for (i = n; i >= 2; i--) {
      lua_rawgeti(L, -1, i);
      lua_rawseti(L, -2, i + 1);
    }
    lua_pushcfunction(L, embed_search);
    lua_rawseti(L, -2, n >= 1 ? 2 : 1);
  }
  lua_pop(L, 3);
}
