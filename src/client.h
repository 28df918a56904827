#ifndef TELNYX_CLIENT_H
#define TELNYX_CLIENT_H

#include <lua.h>

#include "http.h"

#define CLIENT_MT "telnyx.Client"
#define RESOURCE_MT "telnyx.Resource"

/* Creates the Client, Resource and call metatables; pushes telnyx.new. */
void client_open(lua_State *L);

/* Pushes telnyx.describe, which tells the REPL what a client, resource or method is. */
void client_push_describe(lua_State *L);

/*
 * The pure parts of handling a response, callable without a network (the fuzz targets in
 * spec/fuzz/ do). Each reads a finished transfer: t->status, t->headers (raw header lines,
 * NUL-terminated), t->body; none raises except on memory errors, and each leaves the stack
 * with exactly what it says it pushes.
 */

/* A 2xx: pushes the decoded body (nil for none) and returns 1, or the error object for an
   undecodable one and returns 0. Any other status: pushes the error object, returns 0. */
int client_push_response(lua_State *L, const struct http_transfer *t);

/* Pushes the response headers as a table, names lower-cased, repeated names joined by ", ". */
void client_push_response_headers(lua_State *L, const struct http_transfer *t);

/* The wait the response asks for before a retry, in ms (retry-after-ms, then retry-after as
   seconds or an HTTP date), or -1 when it asks for none (or nonsense). Not yet capped. */
double client_retry_after_ms(const struct http_transfer *t);

/* x-should-retry: 1 retry, 0 do not, -1 not given. */
int client_should_retry_header(const struct http_transfer *t);

#endif
