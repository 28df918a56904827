#ifndef TELNYX_BODY_H
#define TELNYX_BODY_H

#include <curl/curl.h>
#include <lua.h>

/*
 * Request bodies in their declared content type (JSON, form-encoded, multipart/form-data,
 * raw octet-stream) and telnyx.file, the file parts of multipart bodies.
 */

#define BODY_FILE_MT "telnyx.File"

enum body_kind { BODY_JSON, BODY_FORM, BODY_MULTIPART, BODY_OCTET };

/* The kind of a declared content type; NULL or anything else is JSON. */
enum body_kind body_kind_of(const char *content_type);

/* The Content-Type header a body of this kind is sent with; NULL for multipart, whose header
   (with its boundary) libcurl writes. */
const char *body_content_type(enum body_kind kind);

/*
 * Pushes the body at idx encoded as `kind` (not multipart): JSON from a table (a string is
 * sent as it is), form-encoded from a table, raw bytes from a string or a telnyx.File (read
 * now). Raises a clear error for what cannot be encoded or read.
 */
void body_push_encoded(lua_State *L, int idx, enum body_kind kind);

/*
 * Builds the multipart body of the table at idx into *slot (freed first when set; the caller
 * owns it, so an error raised half-way leaks nothing): one part per field, nested tables as
 * name[key] and arrays as repeated name[] parts, telnyx.File values as file parts. A file is
 * checked readable here and read by libcurl while sending.
 */
void body_build_mime(lua_State *L, int idx, curl_mime **slot);

/* Creates the telnyx.File metatable and pushes telnyx.file. */
void body_open(lua_State *L);

#endif
