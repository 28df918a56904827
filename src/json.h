#ifndef TELNYX_JSON_H
#define TELNYX_JSON_H

#include <stddef.h>

#include <lua.h>

/* Deepest nesting accepted either way; deeper input is an error, never a crash. */
#define JSON_MAX_DEPTH 1000

/* Registry name of the metatable that marks a table as a JSON array (so [] survives). */
#define JSON_ARRAY_MT "telnyx.array"

/*
 * Sets up the array metatable, telnyx.null and the cache of decoded objects' null-field metatables,
 * and pushes the `telnyx.json` table {encode=, decode=, null=, array=, nulls=}.
 */
void json_open(lua_State *L);

/* Pushes telnyx.null (json_open must have run). */
void json_push_null(lua_State *L);

/*
 * Decodes `len` bytes of JSON text (an answer: the values it makes may take at most the
 * state's budget for answers, see src/http.h). On success pushes the value and returns 1; on
 * failure pushes a one-line message and returns 0. Never raises except on memory errors.
 */
int json_decode(lua_State *L, const char *text, size_t len);

/* Length of the valid UTF-8 character at s (n > 0 bytes available), or 0 when invalid. */
size_t json_utf8_len(const unsigned char *s, size_t n);

/* Encodes the value at `idx` and pushes the text. Raises a clear error when it cannot. */
void json_encode(lua_State *L, int idx);

#endif
