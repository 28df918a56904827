#ifndef TELNYX_CALL_H
#define TELNYX_CALL_H

#include <lua.h>

/*
 * One request of a client, from arguments to result: the URL, headers and body, the attempts
 * with the retry policy, logging, and the yieldable state machine that lets a call inside a
 * telnyx.map task wait without blocking.
 */

/* Creates the call metatable. */
void call_open(lua_State *L);

/* What one call sends and expects (see call_start). */
struct call_spec {
  const char *method;       /* GET, POST, PUT, PATCH, DELETE: a static string */
  int path_idx;             /* the path, already encoded ("/billing_groups/abc") */
  int query_idx, body_idx;  /* 0 when absent; a body string is sent as it is */
  int opts_idx;             /* the call's opts, 0 when absent */
  int headers_idx;          /* the operation's declared headers given in params, 0 when none;
                               opts.headers and opts.extra_headers go after them */
  const char *accept;       /* the Accept header */
  const char *content_type; /* the body's declared content type; NULL: JSON */
  const char *server;       /* the operation's server; NULL: the client's base URL */
  int as_is;                /* the operation answers text or bytes, never JSON to decode */
  int secret_response;      /* the response body is hidden from the debug log */
};

/*
 * Starts a call of the client at client_idx and runs it; returns what a lua_CFunction returns
 * (the decoded body; a body given back as it is and its content type; or with opts.output,
 * the file's path and byte count), or raises the error object.
 */
int call_start(lua_State *L, int client_idx, const struct call_spec *spec);

/* client:request(method, path [, {query=, body=, headers=, timeout=, max_retries=, raw=,
   extra_query=, extra_body=, extra_headers=, output=}]) */
int call_request(lua_State *L);

#endif
