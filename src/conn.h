#ifndef TELNYX_CONN_H
#define TELNYX_CONN_H

#include <lua.h>

#include "http.h"

/*
 * A client's connection settings (struct http_conn): the CA bundle and the proxy, resolved
 * once by telnyx.new from its options and the environment, with the precedence of
 * /work/shared/api/LUA-API.md; NO_PROXY is matched as curl matches it.
 */

/* Reads ca_bundle and proxy from the options table at opts_idx (and the environment) for a
   client of base_url; raises "telnyx.new: ..." for a bad value. `s` starts zeroed. */
void conn_resolve(lua_State *L, struct http_conn *s, int opts_idx, const char *base_url);

/* Frees what conn_resolve allocated, wiping the proxy's credentials; idempotent. */
void conn_free(struct http_conn *s);

/* Whether NO_PROXY (curl's syntax: names, domains, IPs, CIDR blocks, "*") exempts host. */
int conn_no_proxy_matches(const char *no_proxy, const char *host);

#endif
