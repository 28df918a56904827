/*
 * Request bodies in their declared content type, and telnyx.file. Multipart bodies are
 * libcurl's mime objects (curl_mime_*): it writes the boundary and the part headers, and
 * reads a file part from disk while sending, so an upload is never held in memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "body.h"
#include "buf.h"
#include "json.h"
#include "query.h"

#define BODY_MAX_DEPTH 8 /* as query parameters: more nesting is a mistake */

/* telnyx.File user values. */
enum { BODY_UV_PATH = 1, BODY_UV_DATA, BODY_UV_FILENAME, BODY_UV_TYPE, BODY_NUV = BODY_UV_TYPE };

enum body_kind body_kind_of(const char *ct) {
  if (ct == NULL) return BODY_JSON;
  if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) return BODY_FORM;
  if (strncasecmp(ct, "multipart/form-data", 19) == 0) return BODY_MULTIPART;
  if (strncasecmp(ct, "application/octet-stream", 24) == 0) return BODY_OCTET;
  return BODY_JSON;
}

const char *body_content_type(enum body_kind kind) {
  switch (kind) {
    case BODY_FORM: return "application/x-www-form-urlencoded";
    case BODY_MULTIPART: return NULL;
    case BODY_OCTET: return "application/octet-stream";
    default: return "application/json";
  }
}

/* ---- telnyx.file ---- */

/* An optional string field of the options table at idx, stored as user value uv of the file. */
static void body_file_option(lua_State *L, int idx, const char *name, int file_idx, int uv) {
  int t = lua_getfield(L, idx, name);
  if (t != LUA_TNIL && t != LUA_TSTRING)
    luaL_error(L, "telnyx.file: %s must be a string, got %s", name, luaL_typename(L, -1));
  if (t == LUA_TSTRING && lua_rawlen(L, -1) == 0) luaL_error(L, "telnyx.file: %s must not be empty", name);
  lua_setiuservalue(L, file_idx, uv);
}

static void body_file_check_keys(lua_State *L, int idx, const char *const known[]) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int i, ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (i = 0; known[i] != NULL; i++) ok |= strcmp(lua_tostring(L, -2), known[i]) == 0;
    if (!ok) {
      lua_pushvalue(L, -2);
      luaL_error(L, "telnyx.file: unknown option '%s'", luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
  }
}

/* telnyx.file(path [, {filename=, content_type=}]) or telnyx.file{data=, filename=, content_type=} */
static int body_file_new(lua_State *L) {
  static const char *const path_opts[] = {"filename", "content_type", NULL};
  static const char *const data_opts[] = {"data", "filename", "content_type", NULL};
  int file_idx, opts_idx;
  lua_settop(L, 2);
  lua_newuserdatauv(L, 0, BODY_NUV);
  luaL_setmetatable(L, BODY_FILE_MT);
  file_idx = lua_gettop(L);
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t n;
    const char *path = lua_tolstring(L, 1, &n);
    if (n == 0 || strlen(path) != n) return luaL_error(L, "telnyx.file: the path must be a non-empty string without NUL bytes");
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, file_idx, BODY_UV_PATH);
    opts_idx = 2;
    if (!lua_isnoneornil(L, opts_idx)) {
      if (!lua_istable(L, opts_idx))
        return luaL_error(L, "telnyx.file: options must be a table, got %s", luaL_typename(L, opts_idx));
      body_file_check_keys(L, opts_idx, path_opts);
    }
  } else if (lua_istable(L, 1)) {
    opts_idx = 1;
    body_file_check_keys(L, opts_idx, data_opts);
    if (lua_getfield(L, 1, "data") != LUA_TSTRING)
      return luaL_error(L, "telnyx.file: data must be a string, got %s", luaL_typename(L, -1));
    lua_setiuservalue(L, file_idx, BODY_UV_DATA);
  } else {
    return luaL_error(L, "telnyx.file: expected a path or a table {data=, filename=, content_type=}, got %s",
                      luaL_typename(L, 1));
  }
  if (lua_istable(L, opts_idx)) {
    body_file_option(L, opts_idx, "filename", file_idx, BODY_UV_FILENAME);
    body_file_option(L, opts_idx, "content_type", file_idx, BODY_UV_TYPE);
  }
  lua_settop(L, file_idx);
  return 1;
}

static int body_file_tostring(lua_State *L) {
  luaL_checkudata(L, 1, BODY_FILE_MT);
  if (lua_getiuservalue(L, 1, BODY_UV_PATH) == LUA_TSTRING) {
    lua_pushfstring(L, "telnyx.File (%s)", lua_tostring(L, -1));
  } else {
    lua_getiuservalue(L, 1, BODY_UV_DATA);
    lua_getiuservalue(L, 1, BODY_UV_FILENAME);
    lua_pushfstring(L, "telnyx.File (%d bytes%s%s)", (int)lua_rawlen(L, -2), lua_isstring(L, -1) ? ", " : "",
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
  }
  return 1;
}

/* The path of a telnyx.File at idx, checked readable now; NULL for one made from data. */
static const char *body_file_path(lua_State *L, int idx) {
  const char *path;
  FILE *f;
  lua_getiuservalue(L, idx, BODY_UV_PATH);
  path = lua_tostring(L, -1);
  lua_pop(L, 1); /* anchored in the file's user value */
  if (path == NULL) return NULL;
  f = fopen(path, "rb");
  if (f == NULL) luaL_error(L, "telnyx.file: cannot read '%s': %s", path, strerror(errno));
  fclose(f);
  return path;
}

/* Pushes the bytes of the file at idx: its data, or its file's content read now. */
static void body_push_file_bytes(lua_State *L, int idx) {
  const char *path = body_file_path(L, idx);
  luaL_Buffer b;
  FILE *f;
  size_t n;
  if (path == NULL) {
    lua_getiuservalue(L, idx, BODY_UV_DATA);
    return;
  }
  f = fopen(path, "rb");
  if (f == NULL) luaL_error(L, "telnyx.file: cannot read '%s': %s", path, strerror(errno));
  luaL_buffinit(L, &b);
  do {
    char *p = luaL_prepbuffer(&b);
    n = fread(p, 1, LUAL_BUFFERSIZE, f);
    luaL_addsize(&b, n);
  } while (n == LUAL_BUFFERSIZE);
  if (ferror(f)) {
    fclose(f);
    luaL_error(L, "telnyx.file: cannot read '%s'", path);
  }
  fclose(f);
  luaL_pushresult(&b);
}

/* ---- encoders ---- */

void body_push_encoded(lua_State *L, int idx, enum body_kind kind) {
  idx = lua_absindex(L, idx);
  if (kind == BODY_OCTET) {
    if (lua_type(L, idx) == LUA_TSTRING)
      lua_pushvalue(L, idx);
    else if (luaL_testudata(L, idx, BODY_FILE_MT))
      body_push_file_bytes(L, idx);
    else
      luaL_error(L, "an application/octet-stream body must be a string or a telnyx.file, got %s",
                 luaL_typename(L, idx));
  } else if (lua_type(L, idx) == LUA_TSTRING) {
    lua_pushvalue(L, idx); /* already encoded (client:request) */
  } else if (kind == BODY_FORM) {
    struct buf *b;
    if (!lua_istable(L, idx)) luaL_error(L, "a form body must be a table, got %s", luaL_typename(L, idx));
    b = buf_new(L);
    query_add_table(L, b, idx); /* the same encoding as a query string */
    buf_push_result(L, -1);
  } else {
    json_encode(L, idx);
  }
}

/* Adds one part named `name` with the value at idx (a scalar, a telnyx.File or a table). */
static void body_add_part(lua_State *L, curl_mime *mime, const char *name, int idx, int depth) {
  curl_mimepart *part;
  idx = lua_absindex(L, idx);
  if (depth > BODY_MAX_DEPTH) luaL_error(L, "multipart field '%s' is nested too deep", name);
  luaL_checkstack(L, 6, "multipart nesting");
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_Integer i, n = (lua_Integer)lua_rawlen(L, idx);
    if (n > 0) {
      const char *item = lua_pushfstring(L, "%s[]", name);
      for (i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        body_add_part(L, mime, item, -1, depth + 1);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      return;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING)
        luaL_error(L, "multipart field names must be strings, got a %s key in '%s'", luaL_typename(L, -2), name);
      body_add_part(L, mime, lua_pushfstring(L, "%s[%s]", name, lua_tostring(L, -2)), -2, depth + 1);
      lua_pop(L, 2);
    }
    return;
  }
  part = curl_mime_addpart(mime);
  if (part == NULL || curl_mime_name(part, name) != CURLE_OK) luaL_error(L, "not enough memory");
  if (luaL_testudata(L, idx, BODY_FILE_MT)) {
    const char *path = body_file_path(L, idx), *filename, *type;
    CURLcode rc;
    lua_getiuservalue(L, idx, BODY_UV_FILENAME);
    filename = lua_tostring(L, -1);
    lua_getiuservalue(L, idx, BODY_UV_TYPE);
    type = lua_isstring(L, -1) ? lua_tostring(L, -1) : "application/octet-stream";
    if (path != NULL) {
      rc = curl_mime_filedata(part, path); /* the file's base name unless filename says */
    } else {
      size_t n;
      const char *data;
      lua_getiuservalue(L, idx, BODY_UV_DATA);
      data = lua_tolstring(L, -1, &n);
      rc = curl_mime_data(part, data, n);
      if (rc == CURLE_OK && filename == NULL) rc = curl_mime_filename(part, "file");
      lua_pop(L, 1);
    }
    if (rc == CURLE_OK && filename != NULL) rc = curl_mime_filename(part, filename);
    if (rc == CURLE_OK) rc = curl_mime_type(part, type);
    if (rc != CURLE_OK) luaL_error(L, "multipart field '%s': %s", name, curl_easy_strerror(rc));
    lua_pop(L, 2);
    return;
  }
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
    case LUA_TNUMBER: {
      size_t n;
      const char *s;
      lua_pushvalue(L, idx);
      if (lua_isinteger(L, -1)) lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, -1));
      else lua_pushvalue(L, -1);
      s = lua_tolstring(L, -1, &n);
      if (curl_mime_data(part, s, n) != CURLE_OK) luaL_error(L, "not enough memory");
      lua_pop(L, 2);
      break;
    }
    case LUA_TBOOLEAN:
      if (curl_mime_data(part, lua_toboolean(L, idx) ? "true" : "false", CURL_ZERO_TERMINATED) != CURLE_OK)
        luaL_error(L, "not enough memory");
      break;
    default:
      luaL_error(L, "multipart field '%s' cannot be a %s", name, luaL_typename(L, idx));
  }
}

void body_build_mime(lua_State *L, int idx, curl_mime **slot) {
  idx = lua_absindex(L, idx);
  if (!lua_istable(L, idx)) luaL_error(L, "a multipart/form-data body must be a table, got %s", luaL_typename(L, idx));
  if (*slot != NULL) curl_mime_free(*slot);
  *slot = curl_mime_init(NULL);
  if (*slot == NULL) luaL_error(L, "not enough memory");
  luaL_checkstack(L, 4, "multipart body");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_error(L, "multipart field names must be strings, got a %s key", luaL_typename(L, -2));
    body_add_part(L, *slot, lua_tostring(L, -2), -1, 0);
    lua_pop(L, 1);
  }
}

void body_open(lua_State *L) {
  if (luaL_newmetatable(L, BODY_FILE_MT)) {
    lua_pushcfunction(L, body_file_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, body_file_new);
}
