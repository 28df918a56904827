/*
 * The Client object: telnyx.new and the checking of its options, the User-Agent, tostring,
 * close and __gc. What a client does lives elsewhere: its calls in call.c, its resources in
 * resource.c; telnyx.c joins them through client_open.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "client.h"
#include "conn.h"
#include "http.h"
#include "log.h"

#define CLIENT_DEFAULT_BASE_URL "https://api.telnyx.com/v2"
#define CLIENT_DEFAULT_TIMEOUT_MS 60000L
#define CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 5000L /* as the Python SDK */
#define CLIENT_MAX_TIMEOUT_S 86400.0 /* a day: larger values are refused, not clamped */
#define CLIENT_DEFAULT_RETRIES 2
#define CLIENT_MAX_HEADER 8192 /* bytes of an extra header's value, or of the API key */

/* ---- small helpers ---- */

static int client_has_crlf(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
  return 0;
}

static char *client_strdup(lua_State *L, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p == NULL) luaL_error(L, "not enough memory");
  memcpy(p, s, n);
  return p;
}

void client_free_secret(char *s) {
  if (s == NULL) return;
  memset(s, 0, strlen(s));
  free(s);
}

double client_random(struct client *c) {
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 7;
  c->rng ^= c->rng << 17;
  return (double)(c->rng >> 11) / 9007199254740992.0;
}

struct client *client_check(lua_State *L, int idx) {
  struct client *c = luaL_checkudata(L, idx, CLIENT_MT);
  if (c->closed) luaL_error(L, "attempt to use a closed telnyx.Client");
  return c;
}

/* ---- validation of options ---- */

/*
 * The loopback rule for plain http://: `localhost` (which libcurl answers itself, without
 * DNS), `[::1]`, or a literal 127.0.0.0/8 address as four decimal parts of 0 to 255 without
 * leading zeros. Nothing else: no other spelling of an address (127.1, 0x7f.0.0.1, 0177...),
 * no trailing dot, no name that a resolver would be asked about (127.0.0.1.2, 127.).
 */
static int client_is_loopback_host(const char *host, size_t n) {
  size_t i = 0;
  int part;
  if (n == 9 && strncasecmp(host, "localhost", 9) == 0) return 1;
  if (n == 5 && strncmp(host, "[::1]", 5) == 0) return 1;
  for (part = 0; part < 4; part++) {
    size_t start;
    int value = 0;
    if (part > 0 && (i >= n || host[i++] != '.')) return 0;
    start = i;
    while (i < n && host[i] >= '0' && host[i] <= '9' && i - start < 3) value = value * 10 + (host[i++] - '0');
    if (i == start || value > 255 || (i - start > 1 && host[start] == '0')) return 0;
    if (part == 0 && value != 127) return 0;
  }
  return i == n;
}

/* Whether what follows a URL's host is nothing or ":PORT" (1 to 65535, decimal). */
static int client_valid_port(const char *p, const char *end) {
  long port = 0;
  if (p == end) return 1;
  if (*p++ != ':' || p == end || end - p > 5) return 0;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return 0;
    port = port * 10 + (*p - '0');
  }
  return port >= 1 && port <= 65535;
}

/*
 * Checks a base URL: http(s) only, no credentials, query or fragment; plain http only to a
 * loopback host, since it would send the API key in clear text. Returns an error or NULL.
 */
static const char *client_check_base_url(const char *url) {
  const char *host, *end;
  int https = strncasecmp(url, "https://", 8) == 0;
  if (!https && strncasecmp(url, "http://", 7) != 0)
    return "base_url must start with https:// (or http:// for a loopback host)";
  host = url + (https ? 8 : 7);
  end = host + strcspn(host, "/?#");
  if (client_has_crlf(url, strlen(url)) || strchr(url, ' ') != NULL)
    return "base_url must not contain spaces or control characters";
  if (memchr(host, '@', (size_t)(end - host)) != NULL)
    return "base_url must not contain credentials";
  if (strpbrk(url, "?#") != NULL) return "base_url must not contain a query or fragment";
  if (end == host) return "base_url has no host";
  {
    /* the host without its port: "[::1]:8080" -> "[::1]", "127.0.0.1:80" -> "127.0.0.1" */
    const char *port = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) : NULL;
    port = port ? port + 1 : memchr(host, ':', (size_t)(end - host));
    if (!client_valid_port(port ? port : end, end)) return "base_url has an invalid port";
    if (!https && !client_is_loopback_host(host, (size_t)((port ? port : end) - host)))
      return "base_url uses plain http:// to a host that is not loopback; the API key would "
             "travel in clear text (use https://)";
  }
  return NULL;
}

static int client_valid_header_name(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch <= 32 || ch >= 127 || strchr("()<>@,;:\\\"/[]?={}", ch) != NULL) return 0;
  }
  return 1;
}

/*
 * Headers the client owns because they frame the request or manage the connection: one set by
 * hand would desynchronise a kept-alive connection (a Content-Length: 0 with a body leaves the
 * body to be read as the next request) or redirect the request (Host). Refused from every
 * source (TELNYX_CUSTOM_HEADERS, telnyx.new's headers, a call's headers): Content-Length,
 * Transfer-Encoding, TE, Trailer, Host, Connection, Keep-Alive, Upgrade, Expect, and any
 * Proxy-* (there is no proxy: they would only reach the API). Authorization is not here: it
 * is dropped, as the key comes from api_key only (call.c).
 */
static int client_forbidden_header(const char *name) {
  static const char *const names[] = {"content-length", "transfer-encoding", "te", "trailer",
                                      "host", "connection", "keep-alive", "upgrade", "expect", NULL};
  int i;
  for (i = 0; names[i] != NULL; i++)
    if (strcasecmp(name, names[i]) == 0) return 1;
  return strncasecmp(name, "proxy-", 6) == 0;
}

#define CLIENT_FORBIDDEN_HEADER_TEXT \
  "%s: header '%s' may not be set: it frames the request or manages the connection, which the " \
  "client does itself"

/* Removes from the headers table at dst any header named `name`, ignoring case. */
static void client_unset_header(lua_State *L, int dst, const char *name) {
  lua_pushnil(L);
  while (lua_next(L, dst) != 0) {
    lua_pop(L, 1);
    if (strcasecmp(lua_tostring(L, -1), name) == 0) {
      lua_pushnil(L);
      lua_rawset(L, dst); /* then restart: the traversal cannot go on after a removal */
      lua_pushnil(L);
    }
  }
}

/* A name already in dst in another case is replaced. */
void client_merge_headers(lua_State *L, int src, int dst, const char *what) {
  lua_pushnil(L);
  while (lua_next(L, src) != 0) {
    size_t nlen, vlen;
    const char *name, *value;
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s: header names and values must be strings", what);
    name = lua_tolstring(L, -2, &nlen);
    value = lua_tolstring(L, -1, &vlen);
    if (!client_valid_header_name(name, nlen))
      luaL_error(L, "%s: invalid header name '%s'", what, name);
    if (client_forbidden_header(name)) luaL_error(L, CLIENT_FORBIDDEN_HEADER_TEXT, what, name);
    if (client_has_crlf(value, vlen))
      luaL_error(L, "%s: the value of header '%s' contains CR, LF or NUL", what, name);
    if (vlen > CLIENT_MAX_HEADER)
      luaL_error(L, "%s: the value of header '%s' is longer than %d bytes", what, name,
                 CLIENT_MAX_HEADER);
    client_unset_header(L, dst, name);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, dst);
  }
}

/* TELNYX_CUSTOM_HEADERS: "Name: value" lines, as the official SDKs read them. */
static void client_env_headers(lua_State *L, int dst) {
  const char *env = getenv("TELNYX_CUSTOM_HEADERS");
  const char *line = env;
  if (env == NULL) return;
  while (*line != '\0') {
    size_t n = strcspn(line, "\r\n");
    const char *colon = memchr(line, ':', n);
    if (colon != NULL) {
      const char *v = colon + 1;
      size_t vn;
      while (v < line + n && (*v == ' ' || *v == '\t')) v++;
      vn = (size_t)(line + n - v);
      if (!client_valid_header_name(line, (size_t)(colon - line)))
        luaL_error(L, "TELNYX_CUSTOM_HEADERS: invalid header name '%s'",
                   lua_pushlstring(L, line, (size_t)(colon - line)));
      lua_pushlstring(L, line, (size_t)(colon - line));
      if (client_forbidden_header(lua_tostring(L, -1)))
        luaL_error(L, CLIENT_FORBIDDEN_HEADER_TEXT, "TELNYX_CUSTOM_HEADERS", lua_tostring(L, -1));
      lua_pushlstring(L, v, vn);
      lua_rawset(L, dst);
    } else if (n > 0) {
      luaL_error(L, "TELNYX_CUSTOM_HEADERS: a line without ':'");
    }
    line += n;
    while (*line == '\r' || *line == '\n') line++;
  }
}

/*
 * A timeout in seconds, as whole milliseconds for libcurl: rounded up, since 0 ms would mean
 * "no timeout" to libcurl; above a day refused (also infinity), so the conversion cannot
 * overflow. NaN, zero and negatives are refused.
 */
long client_check_timeout(lua_State *L, int idx, const char *what, const char *name) {
  lua_Number t;
  if (!lua_isnumber(L, idx)) luaL_error(L, "%s: %s must be a number of seconds", what, name);
  t = lua_tonumber(L, idx);
  if (!(t > 0)) luaL_error(L, "%s: %s must be a positive number of seconds", what, name);
  if (!(t <= CLIENT_MAX_TIMEOUT_S))
    luaL_error(L, "%s: %s must be at most %d seconds (a day)", what, name, (int)CLIENT_MAX_TIMEOUT_S);
  return (long)ceil(t * 1000.0);
}

int client_check_retries(lua_State *L, int idx, const char *what) {
  lua_Integer n;
  if (!lua_isinteger(L, idx)) luaL_error(L, "%s: max_retries must be an integer", what);
  n = lua_tointeger(L, idx);
  if (n < 0 || n > 100) luaL_error(L, "%s: max_retries must be between 0 and 100", what);
  return (int)n;
}

void client_check_keys(lua_State *L, int idx, const char *const known[], const char *what) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int i, ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING)
      for (i = 0; known[i] != NULL; i++)
        if (strcmp(lua_tostring(L, -2), known[i]) == 0) ok = 1;
    if (!ok) {
      lua_pushvalue(L, -2);
      luaL_error(L, "%s: unknown option '%s'", what, luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
  }
}

/* ---- the client object ---- */

static void client_release(struct client *c) {
  conn_free(&c->conn);
  client_free_secret(c->api_key);
  free(c->base_url);
  free(c->user_agent);
  c->api_key = c->base_url = c->user_agent = NULL;
  c->closed = 1;
}

static int client_gc(lua_State *L) {
  client_release(luaL_checkudata(L, 1, CLIENT_MT));
  return 0;
}

static int client_tostring(lua_State *L) {
  struct client *c = luaL_checkudata(L, 1, CLIENT_MT);
  if (c->closed)
    lua_pushliteral(L, "telnyx.Client (closed)");
  else
    lua_pushfstring(L, "telnyx.Client (%s)", c->base_url);
  return 1;
}

/*
 * The User-Agent, made at the first request rather than by telnyx.new: the first call of
 * curl_version_info asks each library under libcurl for its version, which shows in the
 * startup time `make bench` measures (see scripts/bench/README.md).
 */
const char *client_user_agent(lua_State *L, struct client *c) {
  if (c->user_agent == NULL) {
    c->user_agent = client_strdup(L, lua_pushfstring(L, "telnyx-lua/%s (Lua 5.4; libcurl %s)", TELNYX_VERSION,
                                                     curl_version_info(CURLVERSION_NOW)->version));
    lua_pop(L, 1);
  }
  return c->user_agent;
}

/* telnyx.new([opts]) */
static int client_new(lua_State *L) {
  static const char *const known[] = {"api_key",         "base_url",  "timeout", "max_retries", "headers",
                                      "connect_timeout", "ca_bundle", "proxy",   NULL};
  struct client *c;
  const char *err;
  const char *key = NULL, *base = NULL;
  size_t keylen = 0;
  if (!lua_isnoneornil(L, 1) && !lua_istable(L, 1))
    return luaL_error(L, "telnyx.new: options must be a table, got a %s", luaL_typename(L, 1));
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) {
    lua_newtable(L);
    lua_replace(L, 1);
  }
  client_check_keys(L, 1, known, "telnyx.new");
  c = lua_newuserdatauv(L, sizeof *c, CLIENT_NUV); /* 2: zeroed before anything can fail */
  memset(c, 0, sizeof *c);
  c->closed = 1;
  luaL_setmetatable(L, CLIENT_MT);
  c->timeout_ms = CLIENT_DEFAULT_TIMEOUT_MS;
  c->conn.connect_timeout_ms = CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  c->max_retries = CLIENT_DEFAULT_RETRIES;
  c->log_level = log_level_from_env();
  c->rng = (unsigned long long)(size_t)c ^ (unsigned long long)(http_now_ms() * 1000.0) ^ 0x9E3779B97F4A7C15ULL;
  if (lua_getfield(L, 1, "api_key") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "telnyx.new: api_key must be a string");
    key = lua_tolstring(L, -1, &keylen);
  } else if (getenv("TELNYX_API_KEY") != NULL) {
    key = getenv("TELNYX_API_KEY");
    keylen = strlen(key);
  }
  if (key != NULL && (keylen == 0 || client_has_crlf(key, keylen) || strchr(key, ' ') != NULL))
    return luaL_error(L, "telnyx.new: api_key must be non-empty, without spaces, CR, LF or NUL");
  if (keylen > CLIENT_MAX_HEADER)
    return luaL_error(L, "telnyx.new: api_key is longer than %d bytes", CLIENT_MAX_HEADER);
  if (lua_getfield(L, 1, "base_url") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "telnyx.new: base_url must be a string");
    base = lua_tostring(L, -1);
  } else {
    base = getenv("TELNYX_BASE_URL");
    if (base == NULL || *base == '\0') base = CLIENT_DEFAULT_BASE_URL;
  }
  if ((err = client_check_base_url(base)) != NULL) return luaL_error(L, "telnyx.new: %s", err);
  if (lua_getfield(L, 1, "timeout") != LUA_TNIL) c->timeout_ms = client_check_timeout(L, -1, "telnyx.new", "timeout");
  if (lua_getfield(L, 1, "connect_timeout") != LUA_TNIL)
    c->conn.connect_timeout_ms = client_check_timeout(L, -1, "telnyx.new", "connect_timeout");
  conn_resolve(L, &c->conn, 1, base);
  if (lua_getfield(L, 1, "max_retries") != LUA_TNIL) c->max_retries = client_check_retries(L, -1, "telnyx.new");
  lua_settop(L, 2);
  lua_newtable(L); /* headers: the environment's, then the option's */
  client_env_headers(L, 3);
  if (lua_getfield(L, 1, "headers") != LUA_TNIL) {
    if (!lua_istable(L, -1)) return luaL_error(L, "telnyx.new: headers must be a table");
    client_merge_headers(L, 4, 3, "telnyx.new");
  }
  lua_pop(L, 1);
  lua_setiuservalue(L, 2, CLIENT_UV_HEADERS);
  lua_newtable(L);
  lua_setiuservalue(L, 2, CLIENT_UV_RESOURCES);
  c->api_key = key ? client_strdup(L, key) : NULL;
  c->base_url = client_strdup(L, base);
  {
    size_t n = strlen(c->base_url);
    while (n > 0 && c->base_url[n - 1] == '/') c->base_url[--n] = '\0';
  }
  c->closed = 0;
  lua_settop(L, 2);
  return 1;
}

/* client:close(): frees the client now (also its __close and __gc); using it later raises. */
static int client_close(lua_State *L) {
  client_release(luaL_checkudata(L, 1, CLIENT_MT));
  return 0;
}

/*
 * client:<method>, client.base_url, then client.<resource> through the lookup (upvalue 2),
 * which raises for an unknown name; it gets the client's own names (upvalue 3) to suggest.
 */
static int client_index(lua_State *L) {
  const char *key;
  client_check(L, 1);
  key = luaL_checkstring(L, 2);
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  if (strcmp(key, "base_url") == 0) {
    lua_pushstring(L, ((struct client *)lua_touserdata(L, 1))->base_url);
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(3));
  return lua_tocfunction(L, lua_upvalueindex(2))(L);
}

void client_open(lua_State *L, const luaL_Reg *methods, lua_CFunction lookup) {
  static const luaL_Reg client_meta[] = {{"__gc", client_gc}, {"__close", client_gc},
                                         {"__tostring", client_tostring}, {NULL, NULL}};
  if (luaL_newmetatable(L, CLIENT_MT)) {
    luaL_setfuncs(L, client_meta, 0);
    lua_newtable(L); /* upvalue 1: the methods */
    luaL_setfuncs(L, methods, 0);
    lua_pushcfunction(L, client_close);
    lua_setfield(L, -2, "close");
    lua_pushcfunction(L, lookup); /* upvalue 2 */
    lua_createtable(L, 0, 4);     /* upvalue 3: the client's own names */
    lua_pushnil(L);
    while (lua_next(L, -4) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushboolean(L, 1);
      lua_rawset(L, -4);
    }
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "base_url");
    lua_pushcclosure(L, client_index, 3);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, client_new);
}
