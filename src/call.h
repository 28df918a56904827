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

/*
 * Starts a call of the client at client_idx and runs it; returns what a lua_CFunction returns
 * (1 result), or raises the error object. path_idx: a string already encoded
 * ("/billing_groups/abc"); query_idx, body_idx, opts_idx: 0 when absent. accept: the Accept
 * header; secret_response: the response body is hidden from the debug log. method must be a
 * static string.
 */
int call_start(lua_State *L, int client_idx, const char *method, int path_idx, int query_idx,
               int body_idx, int opts_idx, const char *accept, int secret_response);

/* client:request(method, path [, {query=, body=, headers=, timeout=, max_retries=, raw=}]) */
int call_request(lua_State *L);

#endif
