#ifndef TELNYX_RESPONSE_H
#define TELNYX_RESPONSE_H

#include <lua.h>

#include "http.h"

/*
 * A finished transfer turned into Lua values and error objects: the one path that real calls
 * (call.c) and the fuzz target (spec/fuzz/fuzz_response.c) both take. Each function reads
 * t->result, t->status, t->headers (raw header lines, NUL-terminated) and t->body; none raises
 * except on memory errors, and each leaves the stack with exactly what it says it pushes.
 */

/* What the request was, for the error object and its message. */
struct response_context {
  const char *method, *url;
  int attempts;
  int raw; /* a 2xx becomes {status=, headers=, body=} instead of its decoded body */
  int as_is; /* the operation answers text or bytes: a 2xx body is never decoded as JSON */
};

/*
 * Pushes what the transfer means and returns 1 for a success (the decoded body, nil for none,
 * the text of a non-JSON one, or the raw table), 0 for a failure: the error object for no
 * response (connection, timeout, body too large), an HTTP error status (with the API's
 * errors when it sent them), or a 2xx body that is not valid JSON. An error object carries
 * ctx's method, url and attempts, the response headers and the request id.
 */
int response_push(lua_State *L, const struct http_transfer *t, const struct response_context *ctx);

/*
 * Whether response_push gives a 2xx body back as it is (a string): the operation answers text
 * or bytes (ctx->as_is), or the answer's content type is not JSON. Its content type is then
 * the call's second result.
 */
int response_body_as_is(const struct http_transfer *t, const struct response_context *ctx);

/*
 * Writes the body of a 2xx transfer to the file `path` (opts.output) and pushes the path and
 * the byte count; raises a clear error when the file cannot be written.
 */
void response_save(lua_State *L, const struct http_transfer *t, const char *path);

/* Pushes the response headers as a table, names lower-cased, repeated names joined by ", ". */
void response_push_headers(lua_State *L, const struct http_transfer *t);

/* The wait the response asks for before a retry, in ms (retry-after-ms, then retry-after as
   seconds or an HTTP date), or -1 when it asks for none (or nonsense). Not yet capped. */
double response_retry_after_ms(const struct http_transfer *t);

/* x-should-retry: 1 retry, 0 do not, -1 not given. */
int response_should_retry(const struct http_transfer *t);

#endif
