/*
 * Transport: one curl multi handle per Lua state drives every transfer, whether a call blocks
 * or a telnyx.map task waits for it. The multi's connection cache keeps connections alive
 * across calls and tasks; easy handles are pooled so a call costs no handle set-up.
 * It is driven through its socket interface: libcurl names the sockets and the timeout it
 * waits for, the loop polls them and tells it which are ready, so a step costs in proportion
 * to what happened. curl_multi_perform would look at every transfer in flight (a poll each)
 * on every step, a cost that grows with telnyx.map's concurrency.
 * Callbacks only append to C buffers and never touch Lua: errors are stored in the transfer
 * and turned into Lua errors by the caller after the transfer ends.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <lauxlib.h>

#include "http.h"
#include "interrupt.h"

#define HTTP_POOL_MAX 64       /* idle easy handles kept for reuse */
#define HTTP_MAX_CONNECTIONS 128 /* connections the cache keeps alive */
#define HTTP_POLL_MS 50        /* longest wait in one step: bounds Ctrl-C latency */

struct http_loop {
  CURLM *multi;
  CURL *pool[HTTP_POOL_MAX];
  int npool;
  int running;
  struct http_transfer *running_list;
  struct http_transfer *done_head, *done_tail;
  /* The sockets libcurl asked us to watch (its socket callback keeps them), and room to copy
     the ready ones, since telling libcurl about one may change the set. */
  struct pollfd *fds, *ready;
  int nfds, capfds;
  double timer_due_ms; /* when libcurl wants curl_multi_socket_action on a timeout; < 0: never */
  /* libcurl's built-in CA bundle and directory: a pooled handle is given them back when a
     client names none, since setting NULL would mean "none" rather than "the default". */
  char *default_ca_file, *default_ca_path;
  size_t max_response, buffered; /* the budget for bodies in flight, and what they hold now */
};

static const char http_loop_key = 'l'; /* registry: the loop userdata */

double http_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void http_sleep(double ms) {
  double until = http_now_ms() + ms;
  struct interrupt_saved sig;
  interrupt_catch(&sig); /* Ctrl-C in stock lua5.4 too (interrupt.h) */
  while (!interrupt_pending()) {
    double left = until - http_now_ms();
    struct timespec ts;
    if (left <= 0) break;
    if (left > HTTP_POLL_MS) left = HTTP_POLL_MS;
    ts.tv_sec = (time_t)(left / 1000.0);
    ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1000.0) * 1e6);
    nanosleep(&ts, NULL);
  }
  interrupt_release(&sig);
}

/* ---- buffers and callbacks (no Lua in here) ---- */

static int http_buf_append(struct http_buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + n + 1) cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) return 0;
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0'; /* header lookups use string functions */
  return 1;
}

static void http_buf_free(struct http_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* Room for `need` bytes and the terminating NUL at once; false when out of memory. */
static int http_buf_reserve(struct http_buf *b, size_t need) {
  char *p;
  if (need + 1 <= b->cap) return 1;
  p = realloc(b->data, need + 1);
  if (p == NULL) return 0;
  b->data = p;
  b->cap = need + 1;
  return 1;
}

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *ud) {
  struct http_transfer *t = ud;
  struct http_loop *loop = t->loop;
  size_t n = size * nmemb;
  if (t->body.len + n > HTTP_MAX_BODY) {
    t->body_too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  /* Every answer in flight shares one budget, so many large ones at once cannot add up. */
  if (n > loop->max_response - loop->buffered) {
    t->over_budget = 1;
    return 0;
  }
  if (t->body.cap == 0) {
    /* The announced length (the compressed one when encoded): one allocation for a 64 KB page
       instead of a doubling series of copies. */
    curl_off_t announced = -1;
    if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK &&
        announced > 0 && announced <= (curl_off_t)HTTP_MAX_BODY &&
        (size_t)announced <= loop->max_response - loop->buffered)
      http_buf_reserve(&t->body, (size_t)announced);
  }
  if (!http_buf_append(&t->body, data, n)) return 0;
  t->counted += n;
  loop->buffered += n;
  return n;
}

static size_t http_on_header(char *data, size_t size, size_t nmemb, void *ud) {
  struct http_transfer *t = ud;
  size_t n = size * nmemb;
  /* A new status line (after 100 Continue, say) starts the final response's headers over. */
  if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) t->headers.len = 0;
  return http_buf_append(&t->headers, data, n) ? n : 0;
}

static int http_on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow) {
  (void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  return interrupt_pending(); /* non-zero aborts: CURLE_ABORTED_BY_CALLBACK */
}

/* ---- the loop ---- */

/* libcurl's socket callback: start, change or stop watching s. No Lua here. */
static int http_on_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *socketp) {
  struct http_loop *loop = ud;
  int i;
  (void)easy, (void)socketp;
  for (i = 0; i < loop->nfds && loop->fds[i].fd != s; i++) continue;
  if (what == CURL_POLL_REMOVE) {
    if (i < loop->nfds) loop->fds[i] = loop->fds[--loop->nfds];
    return 0;
  }
  if (i == loop->nfds) {
    if (loop->nfds == loop->capfds) {
      int cap = loop->capfds ? loop->capfds * 2 : 16;
      struct pollfd *fds = realloc(loop->fds, sizeof *fds * (size_t)cap);
      struct pollfd *ready;
      if (fds == NULL) return -1; /* libcurl fails the transfers */
      loop->fds = fds;
      ready = realloc(loop->ready, sizeof *ready * (size_t)cap);
      if (ready == NULL) return -1;
      loop->ready = ready;
      loop->capfds = cap;
    }
    loop->fds[loop->nfds].fd = s;
    loop->nfds++;
  }
  loop->fds[i].events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) | ((what & CURL_POLL_OUT) ? POLLOUT : 0));
  loop->fds[i].revents = 0;
  return 0;
}

/* libcurl's timer callback: when to call it back on a timeout (-1: never). */
static int http_on_timer(CURLM *multi, long timeout_ms, void *ud) {
  struct http_loop *loop = ud;
  (void)multi;
  loop->timer_due_ms = timeout_ms < 0 ? -1.0 : http_now_ms() + (double)timeout_ms;
  return 0;
}

static char *http_strdup_or_null(const char *s) {
  char *p = s ? malloc(strlen(s) + 1) : NULL;
  if (p != NULL) strcpy(p, s);
  return p;
}

static CURL *http_easy_new(struct http_loop *loop) {
  CURL *easy = curl_easy_init();
  if (easy == NULL) return NULL;
  if (loop->default_ca_file == NULL && loop->default_ca_path == NULL) {
    char *file = NULL, *path = NULL;
    curl_easy_getinfo(easy, CURLINFO_CAINFO, &file);
    curl_easy_getinfo(easy, CURLINFO_CAPATH, &path);
    loop->default_ca_file = http_strdup_or_null(file);
    loop->default_ca_path = http_strdup_or_null(path);
  }
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, http_on_body);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, http_on_header);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, http_on_progress);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  /* gzip only: every server has it, and listing all of libcurl's (deflate, gzip, br, zstd)
     makes it build that list again for every request. */
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  /* A 250-item page (about 64 KB) in one or two reads instead of four, with a poll before each. */
  curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, 65536L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  return easy;
}

static int http_loop_gc(lua_State *L) {
  struct http_loop *loop = lua_touserdata(L, 1);
  if (loop->multi != NULL) {
    while (loop->npool > 0) curl_easy_cleanup(loop->pool[--loop->npool]);
    curl_multi_cleanup(loop->multi); /* may still call http_on_socket: free the sets after */
    loop->multi = NULL;
    curl_global_cleanup(); /* balances the curl_global_init of http_loop_get */
  }
  free(loop->fds);
  free(loop->ready);
  free(loop->default_ca_file);
  free(loop->default_ca_path);
  loop->fds = loop->ready = NULL;
  loop->default_ca_file = loop->default_ca_path = NULL;
  loop->nfds = loop->capfds = 0;
  return 0;
}

/* The budget from the environment: a whole number of bytes, at least 1; the default when unset. */
static size_t http_budget_from_env(lua_State *L) {
  const char *v = getenv(HTTP_MAX_RESPONSE_ENV);
  char *end;
  unsigned long long n;
  if (v == NULL || *v == '\0') return HTTP_DEFAULT_MAX_RESPONSE_BYTES;
  errno = 0;
  n = strtoull(v, &end, 10);
  if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n == 0 || n > (unsigned long long)(SIZE_MAX / 2)) {
    /* a setting of the process, not of the caller: no position (luaL_error would name the Lua
       line whose call happened to come first) */
    lua_pushfstring(L, "%s must be a whole number of bytes from 1, got '%s'", HTTP_MAX_RESPONSE_ENV, v);
    lua_error(L);
  }
  return (size_t)n;
}

struct http_loop *http_loop_get(lua_State *L) {
  struct http_loop *loop;
  size_t budget;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &http_loop_key) == LUA_TUSERDATA) {
    loop = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return loop;
  }
  lua_pop(L, 1);
  budget = http_budget_from_env(L);
  loop = lua_newuserdatauv(L, sizeof *loop, 0);
  memset(loop, 0, sizeof *loop);
  loop->max_response = budget;
  lua_newtable(L);
  lua_pushcfunction(L, http_loop_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (loop->multi = curl_multi_init()) == NULL)
    luaL_error(L, "cannot initialise libcurl");
  loop->timer_due_ms = -1.0;
  curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, http_on_socket);
  curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
  curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, http_on_timer);
  curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
  curl_multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, (long)HTTP_MAX_CONNECTIONS);
  curl_multi_setopt(loop->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &http_loop_key);
  return loop;
}

int http_loop_running(struct http_loop *loop) { return loop->running; }

size_t http_max_response_bytes(lua_State *L) { return http_loop_get(L)->max_response; }

static void http_link_running(struct http_loop *loop, struct http_transfer *t) {
  t->run_prev = NULL;
  t->run_next = loop->running_list;
  if (loop->running_list) loop->running_list->run_prev = t;
  loop->running_list = t;
  loop->running++;
}

static void http_unlink_running(struct http_loop *loop, struct http_transfer *t) {
  if (t->run_prev)
    t->run_prev->run_next = t->run_next;
  else
    loop->running_list = t->run_next;
  if (t->run_next) t->run_next->run_prev = t->run_prev;
  t->run_prev = t->run_next = NULL;
  loop->running--;
}

/* Ends a transfer: result recorded, handle back to the pool, queued for its waiter. */
static void http_finish(struct http_transfer *t, CURLcode result) {
  struct http_loop *loop = t->loop;
  t->result = result;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  if (result != CURLE_OK) { /* what http_failure explains */
    curl_easy_getinfo(t->easy, CURLINFO_SSL_VERIFYRESULT, &t->verify_result);
    curl_easy_getinfo(t->easy, CURLINFO_PROXY_SSL_VERIFYRESULT, &t->proxy_verify_result);
    curl_easy_getinfo(t->easy, CURLINFO_HTTP_CONNECTCODE, &t->connect_code);
  }
  t->elapsed_ms = http_now_ms() - t->started_ms;
  if (t->over_budget)
    snprintf(t->errbuf, sizeof t->errbuf,
             "answers in flight would hold more than %zu bytes (the budget %s sets)", loop->max_response,
             HTTP_MAX_RESPONSE_ENV);
  curl_multi_remove_handle(loop->multi, t->easy);
  if (loop->npool < HTTP_POOL_MAX)
    loop->pool[loop->npool++] = t->easy;
  else
    curl_easy_cleanup(t->easy);
  t->easy = NULL;
  t->state = HTTP_DONE;
  http_unlink_running(loop, t);
  t->next_done = NULL;
  if (loop->done_tail)
    loop->done_tail->next_done = t;
  else
    loop->done_head = t;
  loop->done_tail = t;
}

/* Files the transfers libcurl finished; returns how many. */
static int http_collect(struct http_loop *loop) {
  CURLMsg *msg;
  int left, finished = 0;
  while ((msg = curl_multi_info_read(loop->multi, &left)) != NULL) {
    struct http_transfer *t = NULL;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t != NULL) {
      http_finish(t, msg->data.result);
      finished++;
    }
  }
  return finished;
}

/* Ctrl-C: every transfer in flight ends now as aborted. */
static void http_abort_all(struct http_loop *loop) {
  while (loop->running_list != NULL) http_finish(loop->running_list, CURLE_ABORTED_BY_CALLBACK);
}

/* Runs libcurl's timeouts when due (a transfer just started is due at once). */
static void http_run_timer(struct http_loop *loop) {
  int still;
  if (loop->timer_due_ms >= 0 && loop->timer_due_ms <= http_now_ms()) {
    loop->timer_due_ms = -1.0; /* libcurl sets the next one */
    curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &still);
  }
}

/* Waits up to timeout_ms for a watched socket or libcurl's timer, and tells libcurl. */
static void http_wait_events(struct http_loop *loop, int timeout_ms) {
  int i, n, nready = 0, still;
  struct interrupt_saved sig;
  if (loop->timer_due_ms >= 0) {
    double left = loop->timer_due_ms - http_now_ms();
    if (left < timeout_ms) timeout_ms = left <= 0 ? 0 : (int)left + 1;
  }
  interrupt_catch(&sig); /* Ctrl-C in stock lua5.4 too (interrupt.h) */
  n = poll(loop->fds, (nfds_t)loop->nfds, timeout_ms);
  interrupt_release(&sig);
  for (i = 0; n > 0 && i < loop->nfds; i++) {
    if (loop->fds[i].revents != 0) {
      loop->ready[nready++] = loop->fds[i];
      n--;
    }
  }
  /* loop->ready is read afresh each time: a callback may move it (growing it keeps its start). */
  for (i = 0; i < nready; i++) {
    short ev = loop->ready[i].revents;
    int mask = ((ev & (POLLIN | POLLHUP)) ? CURL_CSELECT_IN : 0) | ((ev & POLLOUT) ? CURL_CSELECT_OUT : 0) |
               ((ev & (POLLERR | POLLNVAL)) ? CURL_CSELECT_ERR : 0);
    curl_multi_socket_action(loop->multi, loop->ready[i].fd, mask, &still);
  }
  http_run_timer(loop);
}

void http_step(struct http_loop *loop, int timeout_ms) {
  if (interrupt_pending()) {
    http_abort_all(loop);
    return;
  }
  http_run_timer(loop);
  /* Wait only when nothing finished now: a finished transfer may be what the caller awaits.
     With no time to wait, the sockets are still looked at, as curl_multi_perform did. */
  if (http_collect(loop) == 0 && loop->running > 0) {
    http_wait_events(loop, timeout_ms <= 0 ? 0 : timeout_ms < HTTP_POLL_MS ? timeout_ms : HTTP_POLL_MS);
    http_collect(loop);
  }
}

static void http_unqueue(struct http_transfer *t) {
  struct http_loop *loop = t->loop;
  struct http_transfer **p = &loop->done_head, *prev = NULL;
  while (*p != NULL && *p != t) {
    prev = *p;
    p = &(*p)->next_done;
  }
  if (*p == NULL) return;
  *p = t->next_done;
  if (loop->done_tail == t) loop->done_tail = prev;
  t->next_done = NULL;
}

struct http_transfer *http_next_done(struct http_loop *loop) {
  struct http_transfer *t = loop->done_head;
  if (t != NULL) http_unqueue(t);
  return t;
}

void http_wait(struct http_transfer *t) {
  struct interrupt_saved sig;
  interrupt_catch(&sig); /* for the whole wait, not only its polls: no gap for lua.c's handler */
  while (t->state == HTTP_RUNNING) http_step(t->loop, HTTP_POLL_MS);
  interrupt_release(&sig);
  http_unqueue(t);
}

CURLcode http_start(struct http_loop *loop, struct http_transfer *t, const struct http_request *req) {
  CURL *easy = loop->npool > 0 ? loop->pool[--loop->npool] : http_easy_new(loop);
  const struct http_conn *conn = req->conn;
  CURLMcode mc;
  http_release(t);
  t->loop = loop;
  if (easy == NULL) {
    strcpy(t->errbuf, "cannot create a curl handle");
    return CURLE_OUT_OF_MEMORY;
  }
  t->easy = easy;
  t->errbuf[0] = '\0';
  t->status = 0;
  t->body_too_large = 0;
  t->conn = conn;
  t->url = req->url;
  t->timeout_ms = req->timeout_ms;
  t->verify_result = t->proxy_verify_result = t->connect_code = 0;
  t->over_budget = 0;
  curl_easy_setopt(easy, CURLOPT_URL, req->url);
  /* Every connection setting each time: a pooled handle keeps the last client's. libcurl
     reuses a connection only for the same settings. */
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, conn ? conn->connect_timeout_ms : 0L);
  {
    const char *file = conn && conn->ca_file ? conn->ca_file : loop->default_ca_file;
    const char *path = conn && conn->ca_only ? NULL : conn && conn->ca_path ? conn->ca_path : loop->default_ca_path;
    curl_easy_setopt(easy, CURLOPT_CAINFO, file);
    curl_easy_setopt(easy, CURLOPT_CAPATH, path);
    curl_easy_setopt(easy, CURLOPT_PROXY_CAINFO, file);
    curl_easy_setopt(easy, CURLOPT_PROXY_CAPATH, path);
  }
  /* "" rather than NULL: no proxy, and libcurl does not read the environment (conn.c did). */
  curl_easy_setopt(easy, CURLOPT_PROXY, conn && conn->proxy ? conn->proxy : "");
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, req->user_agent);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)t);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  /* A pooled handle remembers its last method: set every method option each time. */
  curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, (char *)NULL);
  if (req->mime != NULL) {
    curl_easy_setopt(easy, CURLOPT_MIMEPOST, req->mime);
  } else if (req->body != NULL || strcmp(req->method, "POST") == 0) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body ? req->body : "");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
  }
  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
  t->started_ms = http_now_ms();
  mc = curl_multi_add_handle(loop->multi, easy);
  if (mc != CURLM_OK) {
    strncpy(t->errbuf, curl_multi_strerror(mc), sizeof t->errbuf - 1);
    t->easy = NULL;
    curl_easy_cleanup(easy);
    return CURLE_FAILED_INIT;
  }
  t->state = HTTP_RUNNING;
  http_link_running(loop, t);
  return CURLE_OK;
}

void http_release(struct http_transfer *t) {
  if (t->state == HTTP_RUNNING) {
    struct http_loop *loop = t->loop;
    curl_multi_remove_handle(loop->multi, t->easy);
    curl_easy_cleanup(t->easy); /* it may be mid-transfer: do not pool it */
    t->easy = NULL;
    http_unlink_running(loop, t);
  } else if (t->state == HTTP_DONE) {
    http_unqueue(t);
  }
  t->state = HTTP_IDLE;
  if (t->waiter_ref != NULL) *t->waiter_ref = NULL;
  t->waiter_ref = NULL;
  t->waiter = NULL;
  if (t->counted > 0) t->loop->buffered -= t->counted;
  t->counted = 0;
  http_buf_free(&t->body);
  http_buf_free(&t->headers);
}

const char *http_header(const struct http_transfer *t, const char *name, size_t *len) {
  size_t nlen = strlen(name);
  const char *line = t->headers.data;
  if (line == NULL) return NULL;
  while (*line != '\0') {
    const char *end = strchr(line, '\n');
    if (end == NULL) end = line + strlen(line);
    if ((size_t)(end - line) > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
      const char *v = line + nlen + 1;
      while (v < end && (*v == ' ' || *v == '\t')) v++;
      while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) end--;
      *len = (size_t)(end - v);
      return v;
    }
    line = *end ? end + 1 : end;
  }
  return NULL;
}

/* ---- failures ---- */

/* "host:port" of a URL, for messages. */
static void http_url_authority(const char *url, char *out, size_t size) {
  const char *p = strstr(url, "://");
  size_t n;
  p = p ? p + 3 : url;
  n = strcspn(p, "/?#");
  if (n >= size) n = size - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

/* The X509_V_ERR_* numbers of OpenSSL's x509_vfy.h, which CURLINFO_SSL_VERIFYRESULT gives. */
enum {
  HTTP_X509_UNABLE_TO_GET_ISSUER_CERT = 2,
  HTTP_X509_CERT_NOT_YET_VALID = 9,
  HTTP_X509_CERT_HAS_EXPIRED = 10,
  HTTP_X509_DEPTH_ZERO_SELF_SIGNED_CERT = 18,
  HTTP_X509_SELF_SIGNED_CERT_IN_CHAIN = 19,
  HTTP_X509_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20,
  HTTP_X509_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21,
  HTTP_X509_HOSTNAME_MISMATCH = 62
};

/* Why a certificate did not verify, from OpenSSL's verify result (0: libcurl's own host check). */
static void http_untrusted(const struct http_transfer *t, const char *whose, long v, const char *why,
                           char *msg, size_t size) {
  const struct http_conn *c = t->conn;
  char cas[512];
  if (c != NULL && c->ca_from != NULL)
    snprintf(cas, sizeof cas, "%s (%s)", c->ca_file ? c->ca_file : "?", c->ca_from);
  else
    snprintf(cas, sizeof cas, "the system's CA certificates");
  /* libcurl checks the host name itself after OpenSSL's verification, leaving v at 0 or 1
     (X509_V_ERR_UNSPECIFIED). */
  if ((v == 0 || v == 1) && (strstr(why, "subject name") != NULL || strstr(why, "host name") != NULL))
    v = HTTP_X509_HOSTNAME_MISMATCH;
  switch (v) {
    case HTTP_X509_CERT_HAS_EXPIRED:
      snprintf(msg, size, "TLS certificate not trusted: the certificate of %s has expired", whose);
      break;
    case HTTP_X509_CERT_NOT_YET_VALID:
      snprintf(msg, size, "TLS certificate not trusted: the certificate of %s is not valid yet", whose);
      break;
    case HTTP_X509_UNABLE_TO_GET_ISSUER_CERT:
    case HTTP_X509_DEPTH_ZERO_SELF_SIGNED_CERT:
    case HTTP_X509_SELF_SIGNED_CERT_IN_CHAIN:
    case HTTP_X509_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case HTTP_X509_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      snprintf(msg, size, "TLS certificate not trusted: the certificate of %s is issued by an unknown CA "
                          "(not in %s; name a CA bundle with ca_bundle or TELNYX_CA_BUNDLE)", whose, cas);
      break;
    case HTTP_X509_HOSTNAME_MISMATCH:
      snprintf(msg, size, "TLS certificate not trusted: the certificate of %s is for another host name (%s)",
               whose, why);
      break;
    default:
      snprintf(msg, size, "TLS certificate not trusted: the certificate of %s does not verify (%s; X509 error %ld)",
               whose, why, v);
  }
}

void http_failure(const struct http_transfer *t, char *msg, size_t size, int *retry, int *timed_out) {
  const struct http_conn *c = t->conn;
  const char *proxy = c != NULL && c->proxy_shown != NULL ? c->proxy_shown : NULL;
  const char *from = proxy ? c->proxy_from : "";
  const char *why = t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result);
  int https = strncasecmp(t->url, "https://", 8) == 0;
  double secs = (double)(c ? c->connect_timeout_ms : 0) / 1000.0;
  if (secs <= 0 || (t->timeout_ms > 0 && (double)t->timeout_ms / 1000.0 < secs)) secs = (double)t->timeout_ms / 1000.0;
  char host[256];
  http_url_authority(t->url, host, sizeof host);
  *retry = 1;
  *timed_out = 0;
  if (proxy != NULL && t->connect_code >= 300) { /* the proxy answered the CONNECT with an error */
    *retry = t->connect_code >= 500;
    if (t->connect_code == 407 || t->connect_code == 401)
      snprintf(msg, size, "the proxy %s (from %s) refused the tunnel: HTTP %ld, %s (%s)", proxy, from,
               t->connect_code, t->connect_code == 407 ? "Proxy Authentication Required" : "Unauthorized",
               strchr(proxy, '@') ? "check the user name and password in the proxy URL"
                                  : "the proxy URL has no user name and password");
    else
      snprintf(msg, size, "the proxy %s (from %s) refused the tunnel to %s: HTTP %ld", proxy, from, host,
               t->connect_code);
    return;
  }
  switch (t->result) {
    case CURLE_PEER_FAILED_VERIFICATION:
      *retry = 0;
      if (proxy != NULL && t->proxy_verify_result != 0) {
        char whose[600];
        snprintf(whose, sizeof whose, "the proxy %s", proxy);
        http_untrusted(t, whose, t->proxy_verify_result, why, msg, size);
      } else {
        http_untrusted(t, host, t->verify_result, why, msg, size);
      }
      return;
    case CURLE_SSL_CACERT_BADFILE:
      *retry = 0;
      snprintf(msg, size, "cannot load the CA certificates %s%s%s: %s", c && c->ca_file ? c->ca_file : "",
               c && c->ca_from ? " from " : "", c && c->ca_from ? c->ca_from : "", why);
      return;
    case CURLE_SSL_CONNECT_ERROR:
      if (strstr(why, "wrong version number") != NULL || strstr(why, "packet length too long") != NULL) {
        *retry = 0;
        snprintf(msg, size, "the server at %s answered in plain HTTP, not TLS: is it an http:// port? (%s)",
                 host, why);
        return;
      }
      break;
    case CURLE_OPERATION_TIMEDOUT:
      *timed_out = 1;
      if (https && strstr(why, "SSL connection timeout") != NULL) {
        /* Connected, then no answer to the TLS hello: a plain-HTTP server waiting for a request. */
        *retry = 0;
        snprintf(msg, size, "no TLS handshake from %s within %g s of connecting%s%s: is it a plain http:// port?",
                 host, secs, proxy ? " through the proxy " : "", proxy ? proxy : "");
      } else if (strstr(why, "Connection timed out") != NULL || strstr(why, "Failed to connect") != NULL) {
        if (proxy != NULL)
          snprintf(msg, size, "connecting to the proxy %s (from %s) timed out (%s)", proxy, from, why);
        else
          snprintf(msg, size, "connecting to %s timed out (%s)", host, why);
      } else {
        snprintf(msg, size, "request timed out after %g s", (double)t->timeout_ms / 1000.0);
      }
      return;
    case CURLE_COULDNT_CONNECT:
      if (proxy != NULL) {
        snprintf(msg, size, "cannot connect to the proxy %s (from %s): %s", proxy, from, why);
        return;
      }
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
      snprintf(msg, size, "cannot resolve the host name of the proxy %s (from %s)", proxy ? proxy : "", from);
      return;
    case CURLE_GOT_NOTHING:
      if (!https) {
        snprintf(msg, size, "%s: the server at %s closed the connection without an answer (if it is a TLS "
                            "port, use https://)", why, host);
        return;
      }
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
      if (!https && strstr(why, "HTTP/0.9") != NULL) {
        *retry = 0;
        snprintf(msg, size, "the server at %s did not answer in HTTP: is it a TLS port? (use https://)", host);
        return;
      }
      break;
    default:
      break;
  }
  snprintf(msg, size, "%s", why);
}
