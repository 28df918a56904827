#ifndef TELNYX_HTTP_H
#define TELNYX_HTTP_H

#include <stddef.h>

#include <curl/curl.h>
#include <lua.h>

/* Largest response body accepted; a larger one fails the transfer rather than eat memory. */
#define HTTP_MAX_BODY (64u * 1024u * 1024u)

/*
 * Default of the state's budget for answers (env TELNYX_MAX_RESPONSE_BYTES): the bytes of
 * response bodies buffered by all transfers in flight together, and the memory the values
 * decoded from one answer may take (src/json.c). Going over fails that transfer or decode.
 */
#define HTTP_DEFAULT_MAX_RESPONSE_BYTES ((size_t)256 * 1024 * 1024)
#define HTTP_MAX_RESPONSE_ENV "TELNYX_MAX_RESPONSE_BYTES"

struct http_buf {
  char *data;
  size_t len, cap;
};

enum http_state { HTTP_IDLE, HTTP_RUNNING, HTTP_DONE };

/*
 * A client's connection settings (resolved by conn.c). Strings are owned by the client;
 * libcurl copies what it is given, and messages read them only while the client is open.
 */
struct http_conn {
  long connect_timeout_ms; /* TCP and TLS; 0: libcurl's default */
  char *ca_file;           /* NULL: libcurl's built-in bundle */
  char *ca_path;           /* NULL: libcurl's built-in directory (unless ca_only) */
  int ca_only;             /* ca_file alone is trusted: no directory */
  const char *ca_from;     /* the option or variable that named ca_file; NULL: the system's */
  char *proxy;             /* the proxy URL with its credentials; NULL: none */
  char *proxy_shown;       /* the same with its credentials as [redacted] */
  const char *proxy_from;  /* the option or variable that named it */
};

/* What a transfer sends. Nothing here is copied: it must outlive the transfer. */
struct http_request {
  const char *method; /* GET, POST, PATCH, PUT, DELETE */
  const char *url;
  struct curl_slist *headers;
  const char *body; /* NULL: no body */
  size_t body_len;
  curl_mime *mime; /* a multipart body instead of body, or NULL */
  long timeout_ms;
  const char *user_agent;
  const struct http_conn *conn; /* NULL: defaults, no proxy */
};

struct http_loop;

/*
 * One HTTP exchange. Lives inside the memory of its owner (a Lua userdata), so freeing never
 * depends on the transfer completing; callbacks only append to its buffers.
 */
struct http_transfer {
  struct http_loop *loop;
  CURL *easy;
  enum http_state state;
  CURLcode result;
  long status;
  int body_too_large;
  int over_budget; /* the state's budget for answers in flight was spent: see errbuf */
  size_t counted;  /* bytes of the body counted in the loop's budget */
  double started_ms, elapsed_ms;
  struct http_buf body, headers; /* response body; raw header lines of the final response */
  char errbuf[CURL_ERROR_SIZE];
  /* What the failure message needs, kept at the end of the transfer. */
  const struct http_conn *conn;
  const char *url;
  long timeout_ms, verify_result, proxy_verify_result, connect_code;
  void *waiter; /* the scheduler's task waiting for it, if any */
  /* The waiter's pointer to this transfer: http_release clears it, so a waiter never holds a
     transfer that its owner (a call, collected with a closed coroutine) has freed. */
  struct http_transfer **waiter_ref;
  struct http_transfer *next_done;
  struct http_transfer *run_prev, *run_next; /* the loop's list of transfers in flight */
};

/* Milliseconds on a monotonic clock. */
double http_now_ms(void);

/* The loop of this Lua state (created on first use and kept in the registry). */
struct http_loop *http_loop_get(lua_State *L);

/* The state's budget for answers, in bytes (HTTP_MAX_RESPONSE_ENV, else the default). */
size_t http_max_response_bytes(lua_State *L);

/* Number of transfers in flight. */
int http_loop_running(struct http_loop *loop);

/* Starts a transfer; returns CURLE_OK or the reason it could not start (in t->errbuf too). */
CURLcode http_start(struct http_loop *loop, struct http_transfer *t, const struct http_request *req);

/* Drives the loop until `t` is done (other transfers progress meanwhile). */
void http_wait(struct http_transfer *t);

/* Drives the loop once, waiting at most timeout_ms for activity. */
void http_step(struct http_loop *loop, int timeout_ms);

/* The next finished transfer not yet claimed, or NULL. */
struct http_transfer *http_next_done(struct http_loop *loop);

/* Stops a transfer if running and frees its buffers; safe to call at any time, repeatedly. */
void http_release(struct http_transfer *t);

/* Value of response header `name` (case-insensitive), trimmed; NULL when absent. */
const char *http_header(const struct http_transfer *t, const char *name, size_t *len);

/*
 * A transfer that got no HTTP response (result != CURLE_OK): writes a one-line message that
 * says what went wrong (certificate not trusted and why, plain HTTP on a TLS port, the proxy
 * refused...) and sets *retry (0 for failures that a retry cannot fix) and *timed_out.
 * Never shows a proxy's credentials.
 */
void http_failure(const struct http_transfer *t, char *msg, size_t size, int *retry, int *timed_out);

/* Sleeps up to ms milliseconds, returning early when interrupted (Ctrl-C). */
void http_sleep(double ms);

#endif
