/*
 * Responses: a finished transfer becomes the value a call returns or the error object it
 * raises (see response.h). Bodies from the network are hostile input: messages quoted from
 * them are cut to one readable line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "errors.h"
#include "http.h"
#include "json.h"
#include "response.h"

#define RESPONSE_SNIPPET 200 /* bytes of a non-JSON body quoted in an error message */

void response_push_headers(lua_State *L, const struct http_transfer *t) {
  const char *p = t->headers.data;
  lua_newtable(L);
  if (p == NULL) return;
  p = strchr(p, '\n'); /* skip the status line */
  while (p != NULL && *++p != '\0') {
    const char *eol = strchr(p, '\n'), *colon, *v, *e;
    luaL_Buffer b;
    size_t i;
    if (eol == NULL) eol = p + strlen(p);
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon != NULL) {
      luaL_buffinit(L, &b);
      for (i = 0; p + i < colon; i++) luaL_addchar(&b, (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]));
      luaL_pushresult(&b);
      for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {}
      for (e = eol; e > v && (e[-1] == '\r' || e[-1] == ' '); e--) {}
      lua_pushvalue(L, -1);
      if (lua_rawget(L, -3) == LUA_TSTRING) {
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, v, (size_t)(e - v));
        lua_concat(L, 3);
      } else {
        lua_pop(L, 1);
        lua_pushlstring(L, v, (size_t)(e - v));
      }
      lua_rawset(L, -3);
    }
    p = *eol ? eol : NULL;
  }
}

/*
 * Pushes text as one line of at most `max` bytes: control characters become spaces, and bytes
 * that are not UTF-8 become '?', so a message from a hostile body is readable and encodes as
 * JSON; a character is never cut in half.
 */
static void response_push_one_line(lua_State *L, const char *s, size_t n, size_t max) {
  luaL_Buffer b;
  size_t i = 0, k;
  while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) s++, n--;
  luaL_buffinit(L, &b);
  for (; i < n; i += k) {
    unsigned char c = (unsigned char)s[i];
    k = c < 0x80 ? 1 : json_utf8_len((const unsigned char *)s + i, n - i);
    if (i + (k ? k : 1) > max) break;
    if (k == 0) {
      luaL_addchar(&b, '?');
      k = 1;
    } else if (k > 1) {
      luaL_addlstring(&b, s + i, k);
    } else {
      luaL_addchar(&b, (c < 32 || c == 127) ? ' ' : (char)c);
    }
  }
  if (i < n) luaL_addstring(&b, "...");
  luaL_pushresult(&b);
}

/* Message from the API's first error: "title: detail (code)". Pushes nil when there is none. */
static void response_push_api_message(lua_State *L, int errors_idx) {
  static const char *const fields[] = {"title", "detail", NULL};
  int first, parts = 0, i;
  lua_rawgeti(L, errors_idx, 1);
  first = lua_gettop(L);
  if (!lua_istable(L, first)) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return;
  }
  /* Pushes the pieces, then joins them: no luaL_Buffer while other values come and go. */
  for (i = 0; fields[i] != NULL; i++) {
    if (lua_getfield(L, first, fields[i]) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
      if (parts++) {
        lua_pushliteral(L, ": ");
        lua_insert(L, -2);
      }
    } else {
      lua_pop(L, 1);
    }
  }
  if (lua_getfield(L, first, "code") == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    if (parts++) lua_pushfstring(L, " (code %s)", lua_tostring(L, -1));
    else lua_pushstring(L, lua_tostring(L, -1));
    lua_remove(L, -2);
  } else {
    lua_pop(L, 1);
  }
  if (parts == 0) {
    lua_settop(L, first - 1);
    lua_pushnil(L);
    return;
  }
  lua_concat(L, lua_gettop(L) - first);
  {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    response_push_one_line(L, s, n, 500);
  }
  lua_replace(L, first);
  lua_settop(L, first);
}

/* Fills method, url, attempts, headers and request_id of the error object on top of the stack. */
static void response_finish_error(lua_State *L, const struct http_transfer *t, const struct response_context *ctx) {
  size_t n;
  const char *rid;
  lua_pushstring(L, ctx->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, ctx->url);
  lua_setfield(L, -2, "url");
  lua_pushinteger(L, ctx->attempts);
  lua_setfield(L, -2, "attempts");
  if (t->headers.len > 0) {
    response_push_headers(L, t);
    lua_setfield(L, -2, "headers");
  }
  if ((rid = http_header(t, "x-request-id", &n)) != NULL) {
    lua_pushlstring(L, rid, n);
    lua_setfield(L, -2, "request_id");
  }
}

static int response_is_json(const struct http_transfer *t) {
  size_t n;
  const char *ct = http_header(t, "content-type", &n);
  if (ct == NULL) return 1; /* the API speaks JSON; an unlabelled body is tried as JSON */
  return (n >= 16 && strncasecmp(ct, "application/json", 16) == 0) ||
         (memchr(ct, '+', n) != NULL && strstr(ct, "+json") != NULL);
}

/* Value of header `name` as a NUL-terminated string in tmp (size n), or NULL if absent/too long. */
static const char *response_header_text(const struct http_transfer *t, const char *name, char *tmp, size_t size) {
  size_t n;
  const char *v = http_header(t, name, &n);
  if (v == NULL || n >= size) return NULL;
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  return tmp;
}

double response_retry_after_ms(const struct http_transfer *t) {
  char tmp[64], *end;
  double wait;
  if (response_header_text(t, "retry-after-ms", tmp, sizeof tmp) != NULL) {
    wait = strtod(tmp, &end);
    if (end != tmp && *end == '\0' && wait >= 0) return wait;
  }
  if (response_header_text(t, "retry-after", tmp, sizeof tmp) != NULL) {
    wait = strtod(tmp, &end) * 1000.0;
    if (end == tmp || *end != '\0') { /* not seconds: an HTTP date */
      time_t when = curl_getdate(tmp, NULL);
      wait = when < 0 ? -1 : ((double)when - (double)time(NULL)) * 1000.0;
    }
    if (wait >= 0) return wait;
  }
  return -1;
}

int response_should_retry(const struct http_transfer *t) {
  size_t n;
  const char *v = http_header(t, "x-should-retry", &n);
  if (v == NULL) return -1;
  if (n == 4 && strncasecmp(v, "true", 4) == 0) return 1;
  if (n == 5 && strncasecmp(v, "false", 5) == 0) return 0;
  return -1;
}

/* A transfer that got no HTTP response: pushes the error object (http_failure words it). */
static void response_connection_error(lua_State *L, const struct http_transfer *t) {
  char msg[1024];
  int retry = 1, timed_out = 0;
  if (t->body_too_large)
    snprintf(msg, sizeof msg, "response body larger than %d MB", (int)(HTTP_MAX_BODY >> 20));
  else
    http_failure(t, msg, sizeof msg, &retry, &timed_out);
  errors_push(L, timed_out ? "APIConnectionTimeoutError" : "APIConnectionError", 0, msg);
}

int response_body_as_is(const struct http_transfer *t, const struct response_context *ctx) {
  if (t->result != CURLE_OK || t->status < 200 || t->status >= 300 || t->status == 204 || ctx->raw) return 0;
  if (ctx->as_is) return 1;
  return t->body.len > 0 && !response_is_json(t);
}

void response_save(lua_State *L, const struct http_transfer *t, const char *path) {
  FILE *f = fopen(path, "wb");
  int failed;
  if (f == NULL) {
    luaL_error(L, "output: cannot write '%s': %s", path, strerror(errno));
    return;
  }
  failed = t->body.len > 0 && fwrite(t->body.data, 1, t->body.len, f) != t->body.len;
  if (fclose(f) != 0) failed = 1;
  if (failed) {
    luaL_error(L, "output: cannot write '%s': %s", path, strerror(errno));
    return;
  }
  lua_pushstring(L, path);
  lua_pushinteger(L, (lua_Integer)t->body.len);
}

/* The decoded body of a 2xx response, or nil for none; 0 with an error pushed if undecodable. */
static int response_push_success(lua_State *L, const struct http_transfer *t, const struct response_context *ctx) {
  if (t->status != 204 && response_body_as_is(t, ctx)) {
    lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
    return 1;
  }
  if (t->status == 204 || t->body.len == 0) {
    lua_pushnil(L);
    return 1;
  }
  if (json_decode(L, t->body.data, t->body.len)) return 1;
  response_push_one_line(L, t->body.data, t->body.len, RESPONSE_SNIPPET);
  lua_pushfstring(L, "invalid JSON in the response (%s); body starts: %s", lua_tostring(L, -2),
                  lua_tostring(L, -1));
  errors_push(L, "APIStatusError", t->status, lua_tostring(L, -1));
  lua_replace(L, -4);
  lua_pop(L, 2);
  return 0;
}

/* An HTTP error status: pushes the error object, with the API's errors when it sent them. */
static void response_status_error(lua_State *L, const struct http_transfer *t) {
  int base = lua_gettop(L);
  /* base + 1: the API's errors array or nil; base + 2: the message from it or nil */
  if (response_is_json(t) && t->body.len > 0 && json_decode(L, t->body.data, t->body.len) &&
      lua_istable(L, -1) && lua_getfield(L, -1, "errors") == LUA_TTABLE) {
    lua_replace(L, base + 1);
    response_push_api_message(L, base + 1);
  } else { /* not JSON, undecodable (its message), a scalar, or no errors array */
    lua_settop(L, base);
    lua_pushnil(L);
    lua_pushnil(L);
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (t->body.len > 0) {
      response_push_one_line(L, t->body.data, t->body.len, RESPONSE_SNIPPET);
      lua_pushfstring(L, "HTTP %d: %s", (int)t->status, lua_tostring(L, -1));
      lua_remove(L, -2);
    } else {
      lua_pushfstring(L, "HTTP %d with no body", (int)t->status);
    }
  }
  errors_push(L, errors_type_for_status(t->status), t->status, lua_tostring(L, -1));
  lua_remove(L, -2);
  if (lua_istable(L, -2)) {
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "errors");
  }
  lua_remove(L, -2);
}

/* raw = true and a 2xx: {status=, headers=, body=}. */
static void response_push_raw(lua_State *L, const struct http_transfer *t) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, t->status);
  lua_setfield(L, -2, "status");
  response_push_headers(L, t);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, t->body.data ? t->body.data : "", t->body.len);
  lua_setfield(L, -2, "body");
}

int response_push(lua_State *L, const struct http_transfer *t, const struct response_context *ctx) {
  if (t->result != CURLE_OK) {
    response_connection_error(L, t);
  } else if (t->status >= 200 && t->status < 300) {
    if (ctx->raw) {
      response_push_raw(L, t);
      return 1;
    }
    if (response_push_success(L, t, ctx)) return 1;
  } else {
    response_status_error(L, t);
  }
  response_finish_error(L, t, ctx);
  return 0;
}
