/*
 * The client: telnyx.new, client:request, the resources generated from the OpenAPI file, and
 * the request pipeline (URL, headers, body, attempts, retries, errors, logging).
 *
 * One generic path serves every operation: a method of a resource is a C closure over its
 * entry in the generated table lua/telnyx/resources.lua. A call runs as a state machine in a
 * call userdata, so inside a telnyx.map task it yields (lua_yieldk) while a transfer or a
 * retry wait is pending, and outside one it blocks; results and errors are the same.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "buf.h"
#include "client.h"
#include "conn.h"
#include "errors.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "pager.h"
#include "query.h"
#include "sched.h"
#include "telnyx.h"

#define CALL_MT "telnyx.Call"
#define CLIENT_DEFAULT_BASE_URL "https://api.telnyx.com/v2"
#define CLIENT_DEFAULT_TIMEOUT_MS 60000L
#define CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 5000L /* as the Python SDK */
#define CLIENT_MAX_TIMEOUT_S 86400.0 /* a day: larger values are refused, not clamped */
#define CLIENT_DEFAULT_RETRIES 2
#define CLIENT_MAX_RETRY_AFTER_MS 60000.0 /* a longer Retry-After is not honoured */
#define CLIENT_BACKOFF_INITIAL_MS 500.0
#define CLIENT_BACKOFF_MAX_MS 8000.0
#define CLIENT_SNIPPET 200 /* bytes of a non-JSON body quoted in an error message */
#define CLIENT_MAX_URL 32768 /* servers answer 414 long before; libcurl fails at 1 MB */
#define CLIENT_MAX_HEADER 8192 /* bytes of an extra header's value, or of the API key */

/* Client user values. */
enum { CLIENT_UV_HEADERS = 1, CLIENT_UV_RESOURCES, CLIENT_NUV = CLIENT_UV_RESOURCES };
/* Resource user values. */
enum { RESOURCE_UV_CLIENT = 1, RESOURCE_UV_NAME, RESOURCE_NUV = RESOURCE_UV_NAME };
/* Call user values: everything a transfer points at stays alive with the call. */
enum { CALL_UV_CLIENT = 1, CALL_UV_URL, CALL_UV_BODY, CALL_UV_HEADERS, CALL_NUV = CALL_UV_HEADERS };

static const char client_ops_key = 'o'; /* registry: the operation tables, built on first use */

struct client {
  char *api_key; /* NULL: missing, an error at the first request */
  char *base_url; /* without a trailing slash */
  char *user_agent;
  long timeout_ms;
  int max_retries;
  struct http_conn conn; /* connect timeout, CA bundle, proxy */
  enum log_level log_level;
  double paused_until_ms; /* a 429 pauses every call of this client until then */
  unsigned long long rng;
  int closed;
};

enum call_phase { CALL_BEFORE_ATTEMPT, CALL_IN_TRANSFER };

struct call {
  struct client *client;
  struct http_transfer xfer;
  struct curl_slist *headers;
  const char *method; /* a static string */
  const char *url;    /* anchored in CALL_UV_URL */
  const char *body;   /* anchored in CALL_UV_BODY, or NULL */
  size_t body_len;
  long timeout_ms;
  int max_retries, attempt;
  int raw, secret_response;
  enum call_phase phase;
  double resume_at_ms;
};

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

/* Overwrites a secret before freeing it, so it does not linger in freed memory. */
static void client_free_secret(char *s) {
  if (s == NULL) return;
  memset(s, 0, strlen(s));
  free(s);
}

static double client_random(struct client *c) {
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 7;
  c->rng ^= c->rng << 17;
  return (double)(c->rng >> 11) / 9007199254740992.0;
}

static struct client *client_check(lua_State *L, int idx) {
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
    size_t start = i;
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

/*
 * Copies the headers table at src into the table at dst, checking names and values; a name
 * already in dst in another case is replaced.
 */
static void client_merge_headers(lua_State *L, int src, int dst, const char *what) {
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
static long client_check_timeout(lua_State *L, int idx, const char *what, const char *name) {
  lua_Number t;
  if (!lua_isnumber(L, idx)) luaL_error(L, "%s: %s must be a number of seconds", what, name);
  t = lua_tonumber(L, idx);
  if (!(t > 0)) luaL_error(L, "%s: %s must be a positive number of seconds", what, name);
  if (!(t <= CLIENT_MAX_TIMEOUT_S))
    luaL_error(L, "%s: %s must be at most %d seconds (a day)", what, name, (int)CLIENT_MAX_TIMEOUT_S);
  return (long)ceil(t * 1000.0);
}

static int client_check_retries(lua_State *L, int idx, const char *what) {
  lua_Integer n;
  if (!lua_isinteger(L, idx)) luaL_error(L, "%s: max_retries must be an integer", what);
  n = lua_tointeger(L, idx);
  if (n < 0 || n > 100) luaL_error(L, "%s: max_retries must be between 0 and 100", what);
  return (int)n;
}

/* Raises for a key of the options table at idx that is not in `known`. */
static void client_check_keys(lua_State *L, int idx, const char *const known[], const char *what) {
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
 * curl_version_info asks each library under libcurl for its version (about 0.2 ms).
 */
static const char *client_user_agent(lua_State *L, struct client *c) {
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

/* ---- the operation tables ---- */

/*
 * Pushes the registry table built from telnyx.resources on first use:
 * {methods = {[resource] = {[name] = closure}}, children = {[resource] = {[child] = true}},
 *  op_of = {[closure] = op}} (weak keys).
 */
static int client_op_call(lua_State *L);

static void client_push_ops(lua_State *L) {
  int ops, methods, children, op_of, list;
  lua_Integer i, n;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &client_ops_key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  luaL_checkstack(L, 12, "operation tables");
  lua_createtable(L, 0, 3);
  ops = lua_gettop(L);
  lua_newtable(L);
  methods = lua_gettop(L);
  lua_newtable(L);
  children = lua_gettop(L);
  lua_newtable(L);
  op_of = lua_gettop(L);
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, op_of);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx.resources");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "operations");
  list = lua_gettop(L);
  n = (lua_Integer)lua_rawlen(L, list);
  for (i = 1; i <= n; i++) {
    const char *resource, *dot;
    lua_rawgeti(L, list, i);
    lua_getfield(L, -1, "resource");
    resource = lua_tostring(L, -1);
    if (lua_getfield(L, methods, resource) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_setfield(L, methods, resource);
    }
    lua_getfield(L, -3, "method");
    lua_pushvalue(L, -4);
    lua_pushcclosure(L, client_op_call, 1);
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -6);
    lua_rawset(L, op_of); /* op_of[closure] = op */
    lua_rawset(L, -3);    /* methods[resource][method] = closure */
    lua_pop(L, 1);
    /* "addresses.actions" is a child of "addresses": children["addresses"].actions = true */
    for (dot = strchr(resource, '.'); dot != NULL; dot = strchr(dot + 1, '.')) {
      lua_pushlstring(L, resource, (size_t)(dot - resource));
      if (lua_rawget(L, children) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushlstring(L, resource, (size_t)(dot - resource));
        lua_pushvalue(L, -2);
        lua_rawset(L, children);
      }
      lua_pushlstring(L, dot + 1, strcspn(dot + 1, "."));
      lua_pushboolean(L, 1);
      lua_rawset(L, -3);
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 2);
  lua_pushvalue(L, methods);
  lua_setfield(L, ops, "methods");
  lua_pushvalue(L, children);
  lua_setfield(L, ops, "children");
  lua_pushvalue(L, op_of);
  lua_setfield(L, ops, "op_of");
  lua_settop(L, ops);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &client_ops_key);
}

/* Whether `name` is a resource (has methods) or a parent of one. */
static int client_is_resource(lua_State *L, const char *name) {
  int found;
  client_push_ops(L);
  lua_getfield(L, -1, "methods");
  found = lua_getfield(L, -1, name) != LUA_TNIL;
  lua_pop(L, 2);
  if (!found) {
    lua_getfield(L, -1, "children");
    found = lua_getfield(L, -1, name) != LUA_TNIL;
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return found;
}

/* Pushes the resource object `name` of the client at client_idx, cached per client. */
static void client_push_resource(lua_State *L, int client_idx, const char *name) {
  lua_getiuservalue(L, client_idx, CLIENT_UV_RESOURCES);
  if (lua_getfield(L, -1, name) == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newuserdatauv(L, 1, RESOURCE_NUV);
    luaL_setmetatable(L, RESOURCE_MT);
    lua_pushvalue(L, client_idx);
    lua_setiuservalue(L, -2, RESOURCE_UV_CLIENT);
    lua_pushstring(L, name);
    lua_setiuservalue(L, -2, RESOURCE_UV_NAME);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
  }
  lua_remove(L, -2);
}

static int client_request(lua_State *L);

static const luaL_Reg client_methods[] = {{"request", client_request}, {"close", client_close}, {NULL, NULL}};

/* client.<resource> and client:<method> */
static int client_index(lua_State *L) {
  const char *key;
  const luaL_Reg *m;
  client_check(L, 1);
  key = luaL_checkstring(L, 2);
  for (m = client_methods; m->name != NULL; m++)
    if (strcmp(m->name, key) == 0) {
      lua_pushcfunction(L, m->func);
      return 1;
    }
  if (strcmp(key, "base_url") == 0) {
    lua_pushstring(L, ((struct client *)lua_touserdata(L, 1))->base_url);
    return 1;
  }
  if (strchr(key, '.') != NULL || !client_is_resource(L, key)) return 0;
  client_push_resource(L, 1, key);
  return 1;
}

/* resource:<method> and resource.<child> */
static int client_resource_index(lua_State *L) {
  const char *name, *key;
  luaL_checkudata(L, 1, RESOURCE_MT);
  key = luaL_checkstring(L, 2);
  lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
  name = lua_tostring(L, -1);
  client_push_ops(L);
  lua_getfield(L, -1, "methods");
  if (lua_getfield(L, -1, name) == LUA_TTABLE && lua_getfield(L, -1, key) != LUA_TNIL) return 1;
  lua_settop(L, 4); /* keep the operation tables at 4 */
  lua_getfield(L, -1, "children");
  if (lua_getfield(L, -1, name) == LUA_TTABLE && lua_getfield(L, -1, key) != LUA_TNIL) {
    const char *child = lua_pushfstring(L, "%s.%s", name, key);
    lua_getiuservalue(L, 1, RESOURCE_UV_CLIENT);
    client_check(L, -1);
    client_push_resource(L, lua_gettop(L), child);
    return 1;
  }
  return 0;
}

static int client_resource_tostring(lua_State *L) {
  luaL_checkudata(L, 1, RESOURCE_MT);
  lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
  lua_pushfstring(L, "telnyx.Resource (%s)", lua_tostring(L, -1));
  return 1;
}

/* ---- calls ---- */

static int client_call_gc(lua_State *L) {
  struct call *call = luaL_checkudata(L, 1, CALL_MT);
  http_release(&call->xfer);
  curl_slist_free_all(call->headers);
  call->headers = NULL;
  return 0;
}

/* Adds one "Name: value" line to the call's header list. */
static void client_add_header(lua_State *L, struct call *call, const char *name, const char *value) {
  /* "Name:" with nothing after it tells libcurl not to send its own header of that name. */
  const char *line = *value ? lua_pushfstring(L, "%s: %s", name, value) : lua_pushfstring(L, "%s:", name);
  struct curl_slist *h = curl_slist_append(call->headers, line);
  lua_pop(L, 1);
  if (h == NULL) luaL_error(L, "not enough memory");
  call->headers = h;
}

/*
 * The request's headers: defaults, then the client's, then the call's; a later one replaces
 * an earlier one of the same name (case-insensitively). Kept as a table in CALL_UV_HEADERS for
 * debug logging, and as the curl list.
 */
static void client_build_headers(lua_State *L, int call_idx, int client_idx, int call_headers_idx,
                                 const char *accept, int has_body) {
  struct call *call = lua_touserdata(L, call_idx);
  struct client *c = call->client;
  int merged;
  lua_newtable(L);
  merged = lua_gettop(L);
  lua_pushstring(L, accept);
  lua_setfield(L, merged, "Accept");
  if (has_body) {
    lua_pushliteral(L, "application/json");
    lua_setfield(L, merged, "Content-Type");
  } else if (strcmp(call->method, "POST") == 0) {
    /* A bodiless POST still sets an empty POSTFIELDS, for which libcurl would claim a form
       (application/x-www-form-urlencoded); an empty value stops it sending any Content-Type. */
    lua_pushliteral(L, "");
    lua_setfield(L, merged, "Content-Type");
  }
  lua_pushliteral(L, ""); /* an empty Expect: no 100-continue round trip for large bodies */
  lua_setfield(L, merged, "Expect");
  lua_getiuservalue(L, client_idx, CLIENT_UV_HEADERS);
  client_merge_headers(L, lua_gettop(L), merged, "headers");
  lua_pop(L, 1);
  if (call_headers_idx) client_merge_headers(L, call_headers_idx, merged, "headers");
  /* Credentials come from api_key only, so an Authorization header is never taken. */
  lua_pushnil(L);
  while (lua_next(L, merged) != 0) {
    const char *name = lua_tostring(L, -2);
    if (strcasecmp(name, "authorization") != 0) client_add_header(L, call, name, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (c->api_key != NULL) {
    /* Built into the list only, never into a Lua string that could outlive the call. */
    struct curl_slist *h;
    size_t n = strlen(c->api_key) + sizeof("Authorization: Bearer ");
    char *line = malloc(n);
    if (line == NULL) {
      luaL_error(L, "not enough memory");
      return;
    }
    snprintf(line, n, "Authorization: Bearer %s", c->api_key);
    h = curl_slist_append(call->headers, line);
    client_free_secret(line);
    if (h == NULL) luaL_error(L, "not enough memory");
    call->headers = h;
  }
  lua_setiuservalue(L, call_idx, CALL_UV_HEADERS);
}

void client_push_response_headers(lua_State *L, const struct http_transfer *t) {
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
static void client_push_one_line(lua_State *L, const char *s, size_t n, size_t max) {
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
static void client_push_api_message(lua_State *L, int errors_idx) {
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
    client_push_one_line(L, s, n, 500);
  }
  lua_replace(L, first);
  lua_settop(L, first);
}

/* Fills method, url, headers and request_id of the error object on top of the stack. */
static void client_finish_error(lua_State *L, struct call *call) {
  size_t n;
  const char *rid;
  lua_pushstring(L, call->method);
  lua_setfield(L, -2, "method");
  lua_pushstring(L, call->url);
  lua_setfield(L, -2, "url");
  lua_pushinteger(L, call->attempt);
  lua_setfield(L, -2, "attempts");
  if (call->xfer.headers.len > 0) {
    client_push_response_headers(L, &call->xfer);
    lua_setfield(L, -2, "headers");
  }
  if ((rid = http_header(&call->xfer, "x-request-id", &n)) != NULL) {
    lua_pushlstring(L, rid, n);
    lua_setfield(L, -2, "request_id");
  }
}

static int client_is_json(const struct http_transfer *t) {
  size_t n;
  const char *ct = http_header(t, "content-type", &n);
  if (ct == NULL) return 1; /* the API speaks JSON; an unlabelled body is tried as JSON */
  return (n >= 16 && strncasecmp(ct, "application/json", 16) == 0) ||
         (memchr(ct, '+', n) != NULL && strstr(ct, "+json") != NULL);
}

/* Value of header `name` as a NUL-terminated string in tmp (size n), or NULL if absent/too long. */
static const char *client_header_text(const struct http_transfer *t, const char *name, char *tmp, size_t size) {
  size_t n;
  const char *v = http_header(t, name, &n);
  if (v == NULL || n >= size) return NULL;
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  return tmp;
}

double client_retry_after_ms(const struct http_transfer *t) {
  char tmp[64], *end;
  double wait;
  if (client_header_text(t, "retry-after-ms", tmp, sizeof tmp) != NULL) {
    wait = strtod(tmp, &end);
    if (end != tmp && *end == '\0' && wait >= 0) return wait;
  }
  if (client_header_text(t, "retry-after", tmp, sizeof tmp) != NULL) {
    wait = strtod(tmp, &end) * 1000.0;
    if (end == tmp || *end != '\0') { /* not seconds: an HTTP date */
      time_t when = curl_getdate(tmp, NULL);
      wait = when < 0 ? -1 : ((double)when - (double)time(NULL)) * 1000.0;
    }
    if (wait >= 0) return wait;
  }
  return -1;
}

/* Wait before the next attempt, in ms: Retry-After when 0 < wait <= 60 s, else backoff. */
static double client_retry_wait(struct call *call) {
  double wait = client_retry_after_ms(&call->xfer);
  if (wait > 0 && wait <= CLIENT_MAX_RETRY_AFTER_MS) return wait;
  wait = CLIENT_BACKOFF_INITIAL_MS * pow(2.0, call->attempt - 1);
  if (wait > CLIENT_BACKOFF_MAX_MS) wait = CLIENT_BACKOFF_MAX_MS;
  return wait * (1.0 - 0.25 * client_random(call->client));
}

/* x-should-retry overrides the status rules: 1 yes, 0 no, -1 not given. */
int client_should_retry_header(const struct http_transfer *t) {
  size_t n;
  const char *v = http_header(t, "x-should-retry", &n);
  if (v == NULL) return -1;
  if (n == 4 && strncasecmp(v, "true", 4) == 0) return 1;
  if (n == 5 && strncasecmp(v, "false", 5) == 0) return 0;
  return -1;
}

enum call_outcome { CALL_OK, CALL_RETRY, CALL_FAIL };

/* A transfer that got no HTTP response: pushes the error object. */
/* A transfer that got no HTTP response: pushes the error object; returns whether to retry. */
static int client_connection_error(lua_State *L, struct call *call) {
  const struct http_transfer *t = &call->xfer;
  char msg[1024];
  int retry = 1, timed_out = 0;
  if (t->body_too_large)
    snprintf(msg, sizeof msg, "response body larger than %d MB", (int)(HTTP_MAX_BODY >> 20));
  else
    http_failure(t, msg, sizeof msg, &retry, &timed_out);
  errors_push(L, timed_out ? "APIConnectionTimeoutError" : "APIConnectionError", 0, msg);
  return retry;
}

/* The decoded body of a 2xx response, or nil for none; 0 with an error pushed if undecodable. */
static int client_push_success(lua_State *L, const struct http_transfer *t) {
  if (t->status == 204 || t->body.len == 0) {
    lua_pushnil(L);
    return 1;
  }
  if (!client_is_json(t)) {
    lua_pushlstring(L, t->body.data, t->body.len);
    return 1;
  }
  if (json_decode(L, t->body.data, t->body.len)) return 1;
  client_push_one_line(L, t->body.data, t->body.len, CLIENT_SNIPPET);
  lua_pushfstring(L, "invalid JSON in the response (%s); body starts: %s", lua_tostring(L, -2),
                  lua_tostring(L, -1));
  errors_push(L, "APIStatusError", t->status, lua_tostring(L, -1));
  lua_replace(L, -4);
  lua_pop(L, 2);
  return 0;
}

/* An HTTP error status: pushes the error object, with the API's errors when it sent them. */
static void client_status_error(lua_State *L, const struct http_transfer *t) {
  int base = lua_gettop(L);
  /* base + 1: the API's errors array or nil; base + 2: the message from it or nil */
  if (client_is_json(t) && t->body.len > 0 && json_decode(L, t->body.data, t->body.len) &&
      lua_istable(L, -1) && lua_getfield(L, -1, "errors") == LUA_TTABLE) {
    lua_replace(L, base + 1);
    client_push_api_message(L, base + 1);
  } else { /* not JSON, undecodable (its message), a scalar, or no errors array */
    lua_settop(L, base);
    lua_pushnil(L);
    lua_pushnil(L);
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    if (t->body.len > 0) {
      client_push_one_line(L, t->body.data, t->body.len, CLIENT_SNIPPET);
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

int client_push_response(lua_State *L, const struct http_transfer *t) {
  if (t->status >= 200 && t->status < 300) return client_push_success(L, t);
  client_status_error(L, t);
  return 0;
}

/* raw = true: {status=, headers=, body=} whatever the status. */
static void client_push_raw(lua_State *L, struct call *call) {
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, call->xfer.status);
  lua_setfield(L, -2, "status");
  client_push_response_headers(L, &call->xfer);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, call->xfer.body.data ? call->xfer.body.data : "", call->xfer.body.len);
  lua_setfield(L, -2, "body");
}

static void client_log_attempt(struct call *call) {
  const struct http_transfer *t = &call->xfer;
  const char *path = strstr(call->url, "://");
  path = path ? strchr(path + 3, '/') : call->url;
  if (t->result == CURLE_OK)
    log_printf("%s %s -> %ld (attempt %d, %.0f ms)", call->method, path ? path : "/", t->status,
               call->attempt, t->elapsed_ms);
  else
    log_printf("%s %s -> %s (attempt %d, %.0f ms)", call->method, path ? path : "/",
               t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result), call->attempt, t->elapsed_ms);
}

static void client_log_debug_request(lua_State *L, int call_idx) {
  struct call *call = lua_touserdata(L, call_idx);
  struct curl_slist *h;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (h = call->headers; h != NULL; h = h->next) {
    luaL_addstring(&b, h->data);
    luaL_addchar(&b, '\n');
  }
  luaL_pushresult(&b);
  log_printf("request %s %s", call->method, call->url);
  if (call->client->conn.proxy_shown != NULL) /* never the proxy URL itself: it may hold a password */
    log_printf("through the proxy %s (from %s)", call->client->conn.proxy_shown, call->client->conn.proxy_from);
  log_headers("request headers", lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
  if (call->body != NULL) log_body("request body", call->body, call->body_len, 0);
}

static void client_log_debug_response(struct call *call) {
  const struct http_transfer *t = &call->xfer;
  if (t->headers.len > 0) log_headers("response headers", t->headers.data, t->headers.len);
  if (t->body.len > 0) log_body("response body", t->body.data, t->body.len, call->secret_response);
}

/*
 * Ctrl-C: this error reports it, so the host's hook need not raise another one. Inside a
 * telnyx.map task the flag stays set: the scheduler stops every task and reports for them all.
 */
static int client_raise_interrupted(lua_State *L) {
  if (!sched_in_task(L)) telnyx_clear_interrupt();
  return luaL_error(L, "interrupted!");
}

/* After a transfer: pushes the result (CALL_OK) or an error object (CALL_RETRY/CALL_FAIL). */
static enum call_outcome client_outcome(lua_State *L, struct call *call) {
  const struct http_transfer *t = &call->xfer;
  int retryable, header;
  if (t->result == CURLE_ABORTED_BY_CALLBACK && telnyx_interrupted()) client_raise_interrupted(L);
  if (call->client->log_level >= LOG_INFO) client_log_attempt(call);
  if (call->client->log_level >= LOG_DEBUG) client_log_debug_response(call);
  if (t->result != CURLE_OK) {
    retryable = client_connection_error(L, call);
  } else if (t->status >= 200 && t->status < 300) {
    if (call->raw) {
      client_push_raw(L, call);
      return CALL_OK;
    }
    if (client_push_success(L, t)) return CALL_OK;
    retryable = 0;
  } else {
    client_status_error(L, t);
    header = client_should_retry_header(t);
    retryable = header >= 0 ? header
                            : (t->status == 408 || t->status == 409 || t->status == 429 || t->status >= 500);
  }
  client_finish_error(L, call);
  return (retryable && call->attempt <= call->max_retries) ? CALL_RETRY : CALL_FAIL;
}

static int client_run(lua_State *L, int call_idx);

static int client_continue(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return client_run(L, (int)ctx);
}

/*
 * The attempt loop. Each pass either waits (a retry's backoff, or the client's rate-limit
 * pause), or starts a transfer and handles its outcome. Inside a task a wait yields and the
 * scheduler resumes us in client_continue; otherwise it blocks.
 */
static int client_run(lua_State *L, int call_idx) {
  struct call *call = lua_touserdata(L, call_idx);
  int in_task = sched_in_task(L);
  for (;;) {
    if (call->phase == CALL_BEFORE_ATTEMPT) {
      double until = call->resume_at_ms > call->client->paused_until_ms ? call->resume_at_ms
                                                                        : call->client->paused_until_ms;
      struct http_request req;
      CURLcode rc;
      if (telnyx_interrupted()) return client_raise_interrupted(L);
      if (until > http_now_ms()) {
        if (in_task) return sched_await_time(L, until, call_idx, client_continue);
        http_sleep(until - http_now_ms());
        continue;
      }
      req.method = call->method;
      req.url = call->url;
      req.headers = call->headers;
      req.body = call->body;
      req.body_len = call->body_len;
      req.timeout_ms = call->timeout_ms;
      req.user_agent = client_user_agent(L, call->client);
      req.conn = &call->client->conn;
      call->attempt++;
      if (call->client->log_level >= LOG_DEBUG) client_log_debug_request(L, call_idx);
      rc = http_start(http_loop_get(L), &call->xfer, &req);
      if (rc != CURLE_OK) return luaL_error(L, "cannot start the request: %s", call->xfer.errbuf);
      call->phase = CALL_IN_TRANSFER;
      if (in_task) return sched_await_transfer(L, &call->xfer, call_idx, client_continue);
      http_wait(&call->xfer);
    }
    call->phase = CALL_BEFORE_ATTEMPT;
    switch (client_outcome(L, call)) {
      case CALL_OK:
        http_release(&call->xfer);
        return 1;
      case CALL_FAIL:
        http_release(&call->xfer);
        return lua_error(L);
      case CALL_RETRY: {
        double wait = client_retry_wait(call);
        call->resume_at_ms = http_now_ms() + wait;
        if (call->xfer.status == 429 && call->resume_at_ms > call->client->paused_until_ms)
          call->client->paused_until_ms = call->resume_at_ms;
        if (call->client->log_level >= LOG_INFO)
          log_printf("retrying %s in %.2f s (retry %d of %d)", call->method, wait / 1000.0,
                     call->attempt, call->max_retries);
        lua_pop(L, 1);
        http_release(&call->xfer);
        break;
      }
    }
  }
}

/*
 * Starts a call and runs it. path_idx: a string already encoded ("/billing_groups/abc");
 * query_idx, body_idx, opts_idx: 0 when absent. Returns what client_run returns.
 */
static int client_call(lua_State *L, int client_idx, const char *method, int path_idx, int query_idx,
                       int body_idx, int opts_idx, const char *accept, int secret_response) {
  struct client *c = client_check(L, client_idx);
  struct call *call;
  struct buf *url;
  int call_idx, headers_idx = 0;
  if (c->api_key == NULL) {
    errors_push(L, "AuthenticationError", 0,
                "no API key: set TELNYX_API_KEY or pass api_key to telnyx.new");
    return lua_error(L);
  }
  call = lua_newuserdatauv(L, sizeof *call, CALL_NUV);
  memset(call, 0, sizeof *call);
  luaL_setmetatable(L, CALL_MT);
  call_idx = lua_gettop(L);
  call->client = c;
  call->method = method;
  call->timeout_ms = c->timeout_ms;
  call->max_retries = c->max_retries;
  call->secret_response = secret_response;
  lua_pushvalue(L, client_idx);
  lua_setiuservalue(L, call_idx, CALL_UV_CLIENT);
  if (opts_idx) {
    if (lua_getfield(L, opts_idx, "timeout") != LUA_TNIL)
      call->timeout_ms = client_check_timeout(L, -1, "request options", "timeout");
    if (lua_getfield(L, opts_idx, "max_retries") != LUA_TNIL)
      call->max_retries = client_check_retries(L, -1, "request options");
    if (lua_getfield(L, opts_idx, "raw") != LUA_TNIL) call->raw = lua_toboolean(L, -1);
    if (lua_getfield(L, opts_idx, "headers") != LUA_TNIL) {
      if (!lua_istable(L, -1)) return luaL_error(L, "request options: headers must be a table");
      headers_idx = lua_gettop(L);
    }
  }
  url = buf_new(L);
  buf_add_string(L, url, c->base_url);
  buf_add(L, url, lua_tostring(L, path_idx), lua_rawlen(L, path_idx));
  if (query_idx) {
    size_t before = url->len;
    buf_add_char(L, url, '?');
    query_add_table(L, url, query_idx);
    if (url->len == before + 1) url->len = before; /* empty query */
  }
  if (url->len > CLIENT_MAX_URL)
    return luaL_error(L, "the request URL would be %d bytes, more than %d: is an id or a query "
                         "parameter too long?", (int)url->len, CLIENT_MAX_URL);
  buf_push_result(L, -1);
  call->url = lua_tostring(L, -1);
  lua_setiuservalue(L, call_idx, CALL_UV_URL);
  if (body_idx) {
    if (lua_type(L, body_idx) == LUA_TSTRING)
      lua_pushvalue(L, body_idx);
    else
      json_encode(L, body_idx);
    call->body = lua_tolstring(L, -1, &call->body_len);
    lua_setiuservalue(L, call_idx, CALL_UV_BODY);
  }
  client_build_headers(L, call_idx, client_idx, headers_idx, accept, body_idx != 0);
  lua_settop(L, call_idx);
  return client_run(L, call_idx);
}

/* client:request(method, path [, {query=, body=, headers=, timeout=, max_retries=, raw=}]) */
static int client_request(lua_State *L) {
  static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
  static const char *const known[] = {"query", "body", "headers", "timeout", "max_retries", "raw", NULL};
  const char *path;
  size_t plen, i;
  int m, query_idx = 0, body_idx = 0, opts_idx = 0;
  client_check(L, 1);
  m = luaL_checkoption(L, 2, NULL, methods);
  path = luaL_checklstring(L, 3, &plen);
  if (plen == 0 || path[0] != '/')
    return luaL_error(L, "client:request: path must start with '/', got '%s'", path);
  for (i = 0; i < plen; i++)
    if ((unsigned char)path[i] <= 32 || path[i] == '?' || path[i] == '#' || (unsigned char)path[i] == 127)
      return luaL_error(L, "client:request: path must not contain spaces, control characters, "
                           "'?' or '#' (pass query parameters in opts.query)");
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    opts_idx = 4;
    client_check_keys(L, 4, known, "client:request");
  }
  lua_settop(L, 4);
  if (opts_idx && lua_getfield(L, 4, "query") != LUA_TNIL) {
    if (!lua_istable(L, -1)) return luaL_error(L, "client:request: query must be a table");
    query_idx = lua_gettop(L);
  }
  if (opts_idx && lua_getfield(L, 4, "body") != LUA_TNIL) body_idx = lua_gettop(L);
  return client_call(L, 1, methods[m], 3, query_idx, body_idx, opts_idx, "application/json", 0);
}

/* ---- operations ---- */

/* "access_ip_address:create" for messages. */
static const char *client_op_name(lua_State *L, int op_idx) {
  lua_getfield(L, op_idx, "resource");
  lua_getfield(L, op_idx, "method");
  lua_pushfstring(L, "%s:%s", lua_tostring(L, -2), lua_tostring(L, -1));
  lua_replace(L, -3);
  lua_pop(L, 1);
  return lua_tostring(L, -1);
}

/* Whether the operation's request body may be left out altogether. */
static int client_body_optional(lua_State *L, int op_idx) {
  int optional;
  lua_getfield(L, op_idx, "body");
  lua_getfield(L, -1, "optional");
  optional = lua_toboolean(L, -1);
  lua_pop(L, 2);
  return optional;
}

/* Raises before sending when a required body field is missing. */
static void client_check_required(lua_State *L, int op_idx, int params_idx) {
  lua_Integer i, n;
  if (lua_getfield(L, op_idx, "body") != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_getfield(L, -1, "required");
  n = lua_istable(L, -1) ? (lua_Integer)lua_rawlen(L, -1) : 0;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, i);
    if (params_idx == 0 || lua_getfield(L, params_idx, lua_tostring(L, -1)) == LUA_TNIL) {
      const char *field = lua_tostring(L, params_idx ? -2 : -1);
      luaL_error(L, "%s: missing required field '%s'", client_op_name(L, op_idx), field);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 2);
}

/* Pushes the operation's path with its {param} replaced by the encoded id at id_idx. */
static void client_push_path(lua_State *L, int op_idx, int id_idx) {
  struct buf *b;
  const char *tmpl, *open, *close;
  lua_getfield(L, op_idx, "path");
  tmpl = lua_tostring(L, -1);
  b = buf_new(L);
  open = id_idx ? strchr(tmpl, '{') : NULL;
  close = open ? strchr(open, '}') : NULL;
  if (open && close) {
    size_t n;
    const char *id = lua_tolstring(L, id_idx, &n);
    buf_add(L, b, tmpl, (size_t)(open - tmpl));
    query_add_path_segment(L, b, id, n);
    buf_add_string(L, b, close + 1);
  } else {
    buf_add_string(L, b, tmpl);
  }
  buf_push_result(L, -1);
  lua_remove(L, -2);
}

/*
 * Every operation: self, then the id when the path has one, then params (body or query),
 * then opts. A list returns a pager (and the pager again as the closing value for `for`).
 */
static int client_op_call(lua_State *L) {
  static const char *const known_opts[] = {"timeout", "max_retries", "headers", NULL};
  int op_idx = lua_upvalueindex(1);
  int arg = 2, id_idx = 0, params_idx = 0, params_slot = 0, opts_idx = 0, client_idx, path_idx;
  int has_path, has_body, paginated, takes_params;
  const char *http_method, *accept;
  luaL_checkudata(L, 1, RESOURCE_MT);
  lua_getfield(L, op_idx, "path_param");
  has_path = !lua_isnil(L, -1);
  lua_getfield(L, op_idx, "body");
  has_body = !lua_isnil(L, -1);
  lua_getfield(L, op_idx, "paginated");
  paginated = lua_toboolean(L, -1);
  lua_getfield(L, op_idx, "query");
  takes_params = has_body || paginated || (lua_istable(L, -1) && lua_rawlen(L, -1) > 0);
  lua_pop(L, 4);
  if (has_path) {
    size_t n;
    if (lua_type(L, arg) != LUA_TSTRING || (lua_tolstring(L, arg, &n), n == 0)) {
      const char *param, *name;
      lua_getfield(L, op_idx, "path_param");
      param = lua_tostring(L, -1);
      name = client_op_name(L, op_idx); /* pushes: evaluated apart from the call's arguments */
      return luaL_error(L, "%s: %s must be a non-empty string, got %s", name, param,
                        lua_type(L, arg) == LUA_TSTRING ? "an empty string" : luaL_typename(L, arg));
    }
    id_idx = arg++;
  }
  if (takes_params) {
    if (!lua_isnoneornil(L, arg) && !lua_istable(L, arg))
      return luaL_error(L, "%s: params must be a table, got %s", client_op_name(L, op_idx),
                        luaL_typename(L, arg));
    if (lua_istable(L, arg)) params_idx = arg;
    params_slot = arg++;
  }
  if (!lua_isnoneornil(L, arg)) {
    if (!lua_istable(L, arg))
      return luaL_error(L, "%s: opts must be a table, got %s", client_op_name(L, op_idx),
                        luaL_typename(L, arg));
    opts_idx = arg;
    client_check_keys(L, opts_idx, known_opts, client_op_name(L, op_idx));
  }
  lua_settop(L, arg);
  if (has_body) client_check_required(L, op_idx, params_idx);
  if (has_body && params_idx == 0 && !client_body_optional(L, op_idx)) {
    lua_newtable(L); /* the API expects a JSON object even when no field is given */
    lua_replace(L, params_slot);
    params_idx = params_slot;
  }
  lua_getiuservalue(L, 1, RESOURCE_UV_CLIENT);
  client_idx = lua_gettop(L);
  client_check(L, client_idx);
  client_push_path(L, op_idx, id_idx);
  path_idx = lua_gettop(L);
  if (paginated) {
    lua_createtable(L, 0, 6);
    lua_pushvalue(L, client_idx);
    lua_setfield(L, -2, "client");
    lua_pushvalue(L, path_idx);
    lua_setfield(L, -2, "path");
    if (params_idx) {
      lua_pushvalue(L, params_idx);
      lua_setfield(L, -2, "params");
    }
    if (opts_idx) {
      lua_pushvalue(L, opts_idx);
      lua_setfield(L, -2, "opts");
    }
    lua_pushvalue(L, op_idx);
    lua_setfield(L, -2, "op");
    pager_new(L, lua_gettop(L));
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushvalue(L, -3);
    return 4;
  }
  lua_getfield(L, op_idx, "http_method");
  http_method = lua_tostring(L, -1);
  lua_getfield(L, op_idx, "accept");
  accept = lua_isstring(L, -1) ? lua_tostring(L, -1) : "application/json";
  /* The method string must be static for the call: map it to the client's own names. */
  {
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    int i;
    for (i = 0; methods[i] != NULL; i++)
      if (strcmp(methods[i], http_method) == 0) break;
    if (methods[i] == NULL) return luaL_error(L, "%s: unsupported HTTP method %s", client_op_name(L, op_idx), http_method);
    http_method = methods[i];
  }
  if (has_body)
    return client_call(L, client_idx, http_method, path_idx, 0, params_idx ? params_idx : 0,
                       opts_idx, accept, strncmp(accept, "text/", 5) == 0);
  return client_call(L, client_idx, http_method, path_idx, params_idx, 0, opts_idx, accept,
                     strncmp(accept, "text/", 5) == 0);
}

/* ---- describe, for the REPL ---- */

/* Pushes a copy of the value at idx, nested tables copied too (down to `depth` levels): what
   describe hands out must not be the tables that calls are dispatched and built from. */
static void client_push_copy(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE || depth == 0) {
    lua_pushvalue(L, idx);
    return;
  }
  luaL_checkstack(L, 4, "telnyx.describe");
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pushvalue(L, -2);
    client_push_copy(L, -2, depth - 1);
    lua_rawset(L, -5);
    lua_pop(L, 1);
  }
}

#define CLIENT_DESCRIBE_DEPTH 16 /* deeper than any operation table the generator writes */

/* telnyx.describe(v): {kind=, ...} for a client, resource or method; nil otherwise. */
static int client_describe(lua_State *L) {
  if (luaL_testudata(L, 1, CLIENT_MT)) {
    struct client *c = lua_touserdata(L, 1);
    lua_createtable(L, 0, 3);
    lua_pushliteral(L, "client");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, c->closed ? "(closed)" : c->base_url);
    lua_setfield(L, -2, "base_url");
    client_push_ops(L);
    lua_getfield(L, -1, "methods");
    client_push_copy(L, -1, CLIENT_DESCRIBE_DEPTH);
    lua_setfield(L, -4, "resources");
    lua_pop(L, 2);
    return 1;
  }
  if (luaL_testudata(L, 1, RESOURCE_MT)) {
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "resource");
    lua_setfield(L, -2, "kind");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    lua_setfield(L, -2, "name");
    client_push_ops(L);
    lua_getfield(L, -1, "methods");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    lua_gettable(L, -2);
    client_push_copy(L, -1, CLIENT_DESCRIBE_DEPTH);
    lua_setfield(L, -5, "methods");
    lua_pop(L, 1);
    lua_getfield(L, -2, "children");
    lua_getiuservalue(L, 1, RESOURCE_UV_NAME);
    lua_gettable(L, -2);
    client_push_copy(L, -1, CLIENT_DESCRIBE_DEPTH);
    lua_setfield(L, -6, "children");
    lua_pop(L, 4);
    return 1;
  }
  if (lua_type(L, 1) == LUA_TFUNCTION) {
    client_push_ops(L);
    lua_getfield(L, -1, "op_of");
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
      lua_createtable(L, 0, 2);
      lua_pushliteral(L, "method");
      lua_setfield(L, -2, "kind");
      client_push_copy(L, -2, CLIENT_DESCRIBE_DEPTH);
      lua_setfield(L, -2, "op");
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}

void client_push_describe(lua_State *L) { lua_pushcfunction(L, client_describe); }

void client_open(lua_State *L) {
  static const luaL_Reg client_meta[] = {{"__index", client_index}, {"__gc", client_gc},
                                         {"__close", client_gc}, {"__tostring", client_tostring},
                                         {NULL, NULL}};
  static const luaL_Reg resource_meta[] = {{"__index", client_resource_index},
                                           {"__tostring", client_resource_tostring}, {NULL, NULL}};
  if (luaL_newmetatable(L, CLIENT_MT)) luaL_setfuncs(L, client_meta, 0);
  if (luaL_newmetatable(L, RESOURCE_MT)) luaL_setfuncs(L, resource_meta, 0);
  if (luaL_newmetatable(L, CALL_MT)) {
    lua_pushcfunction(L, client_call_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 3);
  lua_pushcfunction(L, client_new);
}
