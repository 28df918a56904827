#ifndef TELNYX_CLIENT_H
#define TELNYX_CLIENT_H

#include <lauxlib.h>
#include <lua.h>

#include "http.h"
#include "log.h"

#define CLIENT_MT "telnyx.Client"

/* Client user values. */
enum { CLIENT_UV_HEADERS = 1, CLIENT_UV_RESOURCES, CLIENT_NUV = CLIENT_UV_RESOURCES };

/* A telnyx.Client userdata: what telnyx.new checked, shared by every call of the client. */
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

/*
 * Creates the Client metatable; pushes telnyx.new. The Client knows neither calls nor
 * resources: its __index looks up `methods` (and close, base_url), then hands any other key
 * to `lookup`, called as lookup(L) with the client at 1, the key (a string) at 2 and a table
 * whose keys are the client's own names at 3 (for the suggestion of an unknown name's error).
 */
void client_open(lua_State *L, const luaL_Reg *methods, lua_CFunction lookup);

/* The open client at idx; raises for a closed one or another value. */
struct client *client_check(lua_State *L, int idx);

/* The User-Agent header's value, made at the first request. */
const char *client_user_agent(lua_State *L, struct client *c);

/* A number in [0, 1) from the client's generator (retry jitter). */
double client_random(struct client *c);

/* Overwrites a secret before freeing it, so it does not linger in freed memory. */
void client_free_secret(char *s);

/*
 * Option checks shared with the calls; `what` names the caller in the error message.
 * client_merge_headers copies the headers table at src into the one at dst, checking names
 * and values; client_check_keys raises for a key of the table at idx not in `known`.
 */
/* A timeout option (`name`) in seconds, as whole milliseconds for libcurl (see client.c). */
long client_check_timeout(lua_State *L, int idx, const char *what, const char *name);
int client_check_retries(lua_State *L, int idx, const char *what);
void client_merge_headers(lua_State *L, int src, int dst, const char *what);
void client_check_keys(lua_State *L, int idx, const char *const known[], const char *what);

#endif
