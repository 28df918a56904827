#ifndef TELNYX_ERRORS_H
#define TELNYX_ERRORS_H

#include <lua.h>

#define ERRORS_MT "telnyx.Error"

/* The contract's type name for an HTTP status (>= 300). */
const char *errors_type_for_status(long status);

/*
 * Pushes a new error object {type=, status=, message=, errors={}, headers={}} with the
 * metatable; status 0 means none. Callers add request_id, method, url and the rest.
 */
void errors_push(lua_State *L, const char *type, long status, const char *message);

/* Creates the metatable; pushes telnyx.is_error. */
void errors_open(lua_State *L);

#endif
