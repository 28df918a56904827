#ifndef TELNYX_LOG_H
#define TELNYX_LOG_H

#include <stddef.h>

#include <lua.h>

enum log_level { LOG_OFF, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* TELNYX_LOG as the official SDKs read it; unset or unknown means warn. */
enum log_level log_level_from_env(void);

/* One line on stderr, prefixed "telnyx: ", control characters escaped. */
void log_printf(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Header lines ("Name: value", separated by newlines), secret ones shown as [redacted]. */
void log_headers(const char *title, const char *lines, size_t len);

/* The same for a request's own headers: also redacts every header the client does not set
   itself (the user's, from TELNYX_CUSTOM_HEADERS or headers options). */
void log_request_headers(const char *title, const char *lines, size_t len);

/*
 * A body, with the values of secret keys ([redacted]) hidden when it is JSON; `secret` hides
 * it whole (a token sent as text). Long bodies are cut.
 */
void log_body(const char *title, const char *body, size_t len, int secret);

/* Whether a header name (a rule on words in it) or a JSON key names a secret. */
int log_is_secret_header(const char *name, size_t len);
int log_is_secret_key(const char *key, size_t len);

/* Pushes is_secret_key(k) -> boolean, log_is_secret_key for Lua (telnyx._is_secret_key). */
void log_open(lua_State *L);

#endif
