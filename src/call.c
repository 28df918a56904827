/*
 * A call: one request of a client, run as a state machine in a call userdata, so inside a
 * telnyx.map task it yields (lua_yieldk) while a transfer or a retry wait is pending, and
 * outside one it blocks; results and errors are the same. Here too: the URL, headers and body
 * of the request, the retry policy, the log lines of each attempt, and client:request.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>

#include "body.h"
#include "buf.h"
#include "call.h"
#include "client.h"
#include "errors.h"
#include "http.h"
#include "interrupt.h"
#include "json.h"
#include "log.h"
#include "query.h"
#include "response.h"
#include "sched.h"

#define CALL_MT "telnyx.Call"
#define CALL_MAX_RETRY_AFTER_MS 60000.0 /* a longer Retry-After is not honoured */
#define CALL_BACKOFF_INITIAL_MS 500.0
#define CALL_BACKOFF_MAX_MS 8000.0
#define CALL_MAX_URL 32768 /* servers answer 414 long before; libcurl fails at 1 MB */
#define CALL_DEFAULT_SERVER "https://api.telnyx.com/v2" /* what a client's base_url stands for */
#define CALL_API_ORIGIN "https://api.telnyx.com"

/* Call user values: everything a transfer points at stays alive with the call. */
enum { CALL_UV_CLIENT = 1, CALL_UV_URL, CALL_UV_BODY, CALL_UV_HEADERS, CALL_UV_OUTPUT, CALL_NUV = CALL_UV_OUTPUT };

enum call_phase { CALL_BEFORE_ATTEMPT, CALL_IN_TRANSFER };

struct call {
  struct client *client;
  struct http_transfer xfer;
  struct curl_slist *headers;
  const char *method; /* a static string */
  const char *url;    /* anchored in CALL_UV_URL */
  const char *body;   /* anchored in CALL_UV_BODY, or NULL */
  size_t body_len;
  curl_mime *mime;    /* a multipart body, made again for each attempt from CALL_UV_BODY */
  const char *output; /* opts.output, anchored in CALL_UV_OUTPUT, or NULL */
  int nresults;       /* of a success */
  long timeout_ms;
  int max_retries, attempt;
  int raw, secret_response, as_is, multipart;
  enum call_phase phase;
  double resume_at_ms;
};

/* ---- the request: URL, headers, body ---- */

static int call_gc(lua_State *L) {
  struct call *call = luaL_checkudata(L, 1, CALL_MT);
  http_release(&call->xfer);
  curl_slist_free_all(call->headers);
  call->headers = NULL;
  curl_mime_free(call->mime); /* unbinds it from any handle it was set on */
  call->mime = NULL;
  return 0;
}

/* Adds one "Name: value" line to the call's header list. */
static void call_add_header(lua_State *L, struct call *call, const char *name, const char *value) {
  /* "Name:" with nothing after it tells libcurl not to send its own header of that name. */
  const char *line = *value ? lua_pushfstring(L, "%s: %s", name, value) : lua_pushfstring(L, "%s:", name);
  struct curl_slist *h = curl_slist_append(call->headers, line);
  lua_pop(L, 1);
  if (h == NULL) luaL_error(L, "not enough memory");
  call->headers = h;
}

/*
 * The request's headers: defaults, then the client's, then the call's; a later one replaces
 * an earlier one of the same name (case-insensitively). Kept as a table in CALL_UV_HEADERS for
 * debug logging, and as the curl list.
 */
static void call_build_headers(lua_State *L, int call_idx, int client_idx, const int call_headers[3],
                                 const char *accept, const char *content_type, int has_body) {
  struct call *call = lua_touserdata(L, call_idx);
  struct client *c = call->client;
  int merged, i;
  lua_newtable(L);
  merged = lua_gettop(L);
  lua_pushstring(L, accept);
  lua_setfield(L, merged, "Accept");
  if (content_type != NULL) {
    lua_pushstring(L, content_type);
    lua_setfield(L, merged, "Content-Type");
  } else if (!has_body && strcmp(call->method, "POST") == 0) {
    /* A bodiless POST still sets an empty POSTFIELDS, for which libcurl would claim a form
       (application/x-www-form-urlencoded); an empty value stops it sending any Content-Type. */
    lua_pushliteral(L, "");
    lua_setfield(L, merged, "Content-Type");
  }
  lua_pushliteral(L, ""); /* an empty Expect: no 100-continue round trip for large bodies */
  lua_setfield(L, merged, "Expect");
  lua_getiuservalue(L, client_idx, CLIENT_UV_HEADERS);
  client_merge_headers(L, lua_gettop(L), merged, "headers");
  lua_pop(L, 1);
  /* the operation's declared headers from params, then opts.headers, then opts.extra_headers */
  for (i = 0; i < 3; i++)
    if (call_headers[i]) client_merge_headers(L, call_headers[i], merged, i == 2 ? "extra_headers" : "headers");
  /* Credentials come from api_key only, so an Authorization header is never taken. */
  lua_pushnil(L);
  while (lua_next(L, merged) != 0) {
    const char *name = lua_tostring(L, -2);
    if (strcasecmp(name, "authorization") != 0) call_add_header(L, call, name, lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  if (c->api_key != NULL) {
    /* Built into the list only, never into a Lua string that could outlive the call. */
    struct curl_slist *h;
    size_t n = strlen(c->api_key) + sizeof("Authorization: Bearer ");
    char *line = malloc(n);
    if (line == NULL) {
      luaL_error(L, "not enough memory");
      return;
    }
    snprintf(line, n, "Authorization: Bearer %s", c->api_key);
    h = curl_slist_append(call->headers, line);
    client_free_secret(line);
    if (h == NULL) luaL_error(L, "not enough memory");
    call->headers = h;
  }
  lua_setiuservalue(L, call_idx, CALL_UV_HEADERS);
}

/* ---- the retry policy ---- */

/* Whether a failed attempt may be retried: x-should-retry overrides the status rules. */
static int call_retryable(const struct http_transfer *t) {
  int header;
  if (t->result != CURLE_OK) { /* no response: retried unless a retry cannot help */
    char msg[8];
    int retry = 1, timed_out = 0;
    if (!t->body_too_large) http_failure(t, msg, sizeof msg, &retry, &timed_out);
    return retry;
  }
  if (t->status >= 200 && t->status < 300) return 0; /* an undecodable body */
  header = response_should_retry(t);
  return header >= 0 ? header : (t->status == 408 || t->status == 409 || t->status == 429 || t->status >= 500);
}

/* Wait before the next attempt, in ms: Retry-After when 0 < wait <= 60 s, else backoff. */
static double call_retry_wait(struct call *call) {
  double wait = response_retry_after_ms(&call->xfer);
  if (wait > 0 && wait <= CALL_MAX_RETRY_AFTER_MS) return wait;
  wait = CALL_BACKOFF_INITIAL_MS * pow(2.0, call->attempt - 1);
  if (wait > CALL_BACKOFF_MAX_MS) wait = CALL_BACKOFF_MAX_MS;
  return wait * (1.0 - 0.25 * client_random(call->client));
}


/* ---- logging ---- */

static void call_log_attempt(struct call *call) {
  const struct http_transfer *t = &call->xfer;
  const char *path = strstr(call->url, "://");
  path = path ? strchr(path + 3, '/') : call->url;
  if (t->result == CURLE_OK)
    log_printf("%s %s -> %ld (attempt %d, %.0f ms)", call->method, path ? path : "/", t->status,
               call->attempt, t->elapsed_ms);
  else
    log_printf("%s %s -> %s (attempt %d, %.0f ms)", call->method, path ? path : "/",
               t->errbuf[0] ? t->errbuf : curl_easy_strerror(t->result), call->attempt, t->elapsed_ms);
}

static void call_log_request(lua_State *L, int call_idx) {
  struct call *call = lua_touserdata(L, call_idx);
  struct curl_slist *h;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (h = call->headers; h != NULL; h = h->next) {
    luaL_addstring(&b, h->data);
    luaL_addchar(&b, '\n');
  }
  luaL_pushresult(&b);
  log_printf("request %s %s", call->method, call->url);
  if (call->client->conn.proxy_shown != NULL) /* never the proxy URL itself: it may hold a password */
    log_printf("through the proxy %s (from %s)", call->client->conn.proxy_shown, call->client->conn.proxy_from);
  log_request_headers("request headers", lua_tostring(L, -1), lua_rawlen(L, -1));
  lua_pop(L, 1);
  if (call->body != NULL) log_body("request body", call->body, call->body_len, 0);
}

static void call_log_response(struct call *call) {
  const struct http_transfer *t = &call->xfer;
  if (t->headers.len > 0) log_headers("response headers", t->headers.data, t->headers.len);
  if (t->body.len > 0) log_body("response body", t->body.data, t->body.len, call->secret_response);
}

/* ---- the attempts ---- */

enum call_outcome { CALL_OK, CALL_RETRY, CALL_FAIL };

/* After a transfer: pushes the result (CALL_OK) or an error object (CALL_RETRY/CALL_FAIL). */
static enum call_outcome call_outcome(lua_State *L, struct call *call) {
  struct response_context ctx;
  if (call->client->log_level >= LOG_INFO) call_log_attempt(call);
  if (call->client->log_level >= LOG_DEBUG) call_log_response(call);
  ctx.method = call->method;
  ctx.url = call->url;
  ctx.attempts = call->attempt;
  ctx.raw = call->raw;
  ctx.as_is = call->as_is;
  call->nresults = 1;
  if (call->output != NULL && call->xfer.result == CURLE_OK && call->xfer.status >= 200 && call->xfer.status < 300) {
    response_save(L, &call->xfer, call->output);
    call->nresults = 2;
    return CALL_OK;
  }
  if (response_push(L, &call->xfer, &ctx)) {
    if (response_body_as_is(&call->xfer, &ctx)) { /* the body and its content type */
      size_t n;
      const char *ct = http_header(&call->xfer, "content-type", &n);
      if (ct != NULL) lua_pushlstring(L, ct, n);
      else lua_pushnil(L);
      call->nresults = 2;
    }
    return CALL_OK;
  }
  return (call_retryable(&call->xfer) && call->attempt <= call->max_retries) ? CALL_RETRY : CALL_FAIL;
}

static int call_run(lua_State *L, int call_idx);

static int call_continue(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  return call_run(L, (int)ctx);
}

/*
 * The attempt loop. Each pass either waits (a retry's backoff, or the client's rate-limit
 * pause), or starts a transfer and handles its outcome. Inside a task a wait yields and the
 * scheduler resumes us in call_continue; otherwise it blocks.
 */
static int call_run(lua_State *L, int call_idx) {
  struct call *call = lua_touserdata(L, call_idx);
  int in_task = sched_in_task(L);
  for (;;) {
    if (call->phase == CALL_BEFORE_ATTEMPT) {
      double until = call->resume_at_ms > call->client->paused_until_ms ? call->resume_at_ms
                                                                        : call->client->paused_until_ms;
      struct http_request req;
      CURLcode rc;
      if (interrupt_pending()) {
        /* Inside a task the scheduler reports the interrupt for every task: wait for it. */
        if (in_task) return sched_await_time(L, http_now_ms(), call_idx, call_continue);
        interrupt_take();
        return luaL_error(L, "interrupted!");
      }
      if (until > http_now_ms()) {
        if (in_task) return sched_await_time(L, until, call_idx, call_continue);
        http_sleep(until - http_now_ms());
        continue;
      }
      req.method = call->method;
      req.url = call->url;
      req.headers = call->headers;
      req.body = call->body;
      req.body_len = call->body_len;
      if (call->multipart && call->attempt > 0) { /* a mime is bound to the handle it was sent on */
        lua_getiuservalue(L, call_idx, CALL_UV_BODY);
        body_build_mime(L, -1, &call->mime);
        lua_pop(L, 1);
      }
      req.mime = call->mime;
      req.timeout_ms = call->timeout_ms;
      req.user_agent = client_user_agent(L, call->client);
      req.conn = &call->client->conn;
      call->attempt++;
      if (call->client->log_level >= LOG_DEBUG) call_log_request(L, call_idx);
      rc = http_start(http_loop_get(L), &call->xfer, &req);
      if (rc != CURLE_OK) return luaL_error(L, "cannot start the request: %s", call->xfer.errbuf);
      call->phase = CALL_IN_TRANSFER;
      if (in_task) return sched_await_transfer(L, &call->xfer, call_idx, call_continue);
      http_wait(&call->xfer);
    }
    call->phase = CALL_BEFORE_ATTEMPT;
    if (call->xfer.result == CURLE_ABORTED_BY_CALLBACK && interrupt_pending()) {
      http_release(&call->xfer); /* Ctrl-C aborted it: reported before the next attempt */
      continue;
    }
    switch (call_outcome(L, call)) {
      case CALL_OK:
        http_release(&call->xfer);
        return call->nresults;
      case CALL_FAIL:
        http_release(&call->xfer);
        return lua_error(L);
      case CALL_RETRY: {
        double wait = call_retry_wait(call);
        call->resume_at_ms = http_now_ms() + wait;
        if (call->xfer.status == 429 && call->resume_at_ms > call->client->paused_until_ms)
          call->client->paused_until_ms = call->resume_at_ms;
        if (call->client->log_level >= LOG_INFO)
          log_printf("retrying %s in %.2f s (retry %d of %d)", call->method, wait / 1000.0,
                     call->attempt, call->max_retries);
        lua_pop(L, 1);
        http_release(&call->xfer);
        break;
      }
    }
  }
}

/*
 * The start of every URL. A client's base_url stands for the default server
 * https://api.telnyx.com/v2; an operation with a server of its own under the same origin
 * (https://api.telnyx.com, for the /.well-known documents) goes to base_url's origin (scheme,
 * host and port) followed by that server's path, so against a mock at http://127.0.0.1:P/v2 it
 * goes to http://127.0.0.1:P/.well-known/... A server on another origin is refused: the API
 * key would go to it.
 */
static void call_add_server(lua_State *L, struct buf *url, const char *base_url, const char *server) {
  size_t n = sizeof CALL_API_ORIGIN - 1;
  const char *host;
  if (server == NULL || strcmp(server, CALL_DEFAULT_SERVER) == 0) {
    buf_add_string(L, url, base_url);
    return;
  }
  if (strncmp(server, CALL_API_ORIGIN, n) != 0 || (server[n] != '\0' && server[n] != '/'))
    luaL_error(L, "the operation's server %s is not under %s", server, CALL_API_ORIGIN);
  host = strstr(base_url, "://");
  host = host ? host + 3 : base_url;
  buf_add(L, url, base_url, (size_t)(host - base_url) + strcspn(host, "/"));
  buf_add_string(L, url, server + n);
}

/* Pushes a shallow copy of the table at idx with the keys of the table at extra_idx set over it. */
static int call_push_merged(lua_State *L, int idx, int extra_idx, const char *what) {
  if (!lua_istable(L, extra_idx))
    return luaL_error(L, "request options: %s must be a table, got %s", what, luaL_typename(L, extra_idx));
  lua_newtable(L);
  if (idx && !lua_istable(L, idx)) return luaL_error(L, "request options: %s needs a table body", what);
  if (idx) {
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
    }
  }
  lua_pushnil(L);
  while (lua_next(L, extra_idx) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  return lua_gettop(L);
}

int call_start(lua_State *L, int client_idx, const struct call_spec *spec) {
  struct client *c = client_check(L, client_idx);
  struct call *call;
  struct buf *url;
  int call_idx, headers[3] = {0, 0, 0}, query_idx = spec->query_idx, body_idx = spec->body_idx;
  int opts_idx = spec->opts_idx;
  enum body_kind kind = body_kind_of(spec->content_type);
  if (c->api_key == NULL) {
    errors_push(L, "AuthenticationError", 0,
                "no API key: set TELNYX_API_KEY or pass api_key to telnyx.new");
    return lua_error(L);
  }
  call = lua_newuserdatauv(L, sizeof *call, CALL_NUV);
  memset(call, 0, sizeof *call);
  luaL_setmetatable(L, CALL_MT);
  call_idx = lua_gettop(L);
  call->client = c;
  call->method = spec->method;
  call->timeout_ms = c->timeout_ms;
  call->max_retries = c->max_retries;
  call->secret_response = spec->secret_response;
  call->as_is = spec->as_is;
  headers[0] = spec->headers_idx;
  lua_pushvalue(L, client_idx);
  lua_setiuservalue(L, call_idx, CALL_UV_CLIENT);
  if (opts_idx) {
    if (lua_getfield(L, opts_idx, "timeout") != LUA_TNIL)
      call->timeout_ms = client_check_timeout(L, -1, "request options", "timeout");
    if (lua_getfield(L, opts_idx, "max_retries") != LUA_TNIL)
      call->max_retries = client_check_retries(L, -1, "request options");
    if (lua_getfield(L, opts_idx, "raw") != LUA_TNIL) call->raw = lua_toboolean(L, -1);
    if (lua_getfield(L, opts_idx, "headers") != LUA_TNIL) {
      if (!lua_istable(L, -1)) return luaL_error(L, "request options: headers must be a table");
      headers[1] = lua_gettop(L);
    }
    /* The official SDKs' escape hatches: sent as given, over what the call built. */
    if (lua_getfield(L, opts_idx, "extra_headers") != LUA_TNIL) {
      if (!lua_istable(L, -1))
        return luaL_error(L, "request options: extra_headers must be a table, got %s", luaL_typename(L, -1));
      headers[2] = lua_gettop(L);
    }
    if (lua_getfield(L, opts_idx, "extra_query") != LUA_TNIL)
      query_idx = call_push_merged(L, query_idx, lua_gettop(L), "extra_query");
    if (lua_getfield(L, opts_idx, "extra_body") != LUA_TNIL)
      body_idx = call_push_merged(L, body_idx, lua_gettop(L), "extra_body");
    if (lua_getfield(L, opts_idx, "output") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
        return luaL_error(L, "request options: output must be a file path");
      call->output = lua_tostring(L, -1);
      lua_pushvalue(L, -1);
      lua_setiuservalue(L, call_idx, CALL_UV_OUTPUT);
    }
  }
  url = buf_new(L);
  call_add_server(L, url, c->base_url, spec->server);
  buf_add(L, url, lua_tostring(L, spec->path_idx), lua_rawlen(L, spec->path_idx));
  if (query_idx) {
    size_t before = url->len;
    buf_add_char(L, url, '?');
    query_add_table(L, url, query_idx);
    if (url->len == before + 1) url->len = before; /* empty query */
  }
  if (url->len > CALL_MAX_URL)
    return luaL_error(L, "the request URL would be %d bytes, more than %d: is an id or a query "
                         "parameter too long?", (int)url->len, CALL_MAX_URL);
  buf_push_result(L, -1);
  call->url = lua_tostring(L, -1);
  lua_setiuservalue(L, call_idx, CALL_UV_URL);
  if (body_idx && kind == BODY_MULTIPART) {
    body_build_mime(L, body_idx, &call->mime); /* the table stays for the next attempts' */
    call->multipart = 1;
    lua_pushvalue(L, body_idx);
    lua_setiuservalue(L, call_idx, CALL_UV_BODY);
  } else if (body_idx) {
    body_push_encoded(L, body_idx, kind);
    call->body = lua_tolstring(L, -1, &call->body_len);
    lua_setiuservalue(L, call_idx, CALL_UV_BODY);
  }
  call_build_headers(L, call_idx, client_idx, headers, spec->accept,
                     body_idx ? body_content_type(kind) : NULL, body_idx != 0);
  lua_settop(L, call_idx);
  return call_run(L, call_idx);
}

int call_request(lua_State *L) {
  static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
  static const char *const known[] = {"query", "body", "headers", "timeout", "max_retries", "raw",
                                      "extra_query", "extra_body", "extra_headers", "output", NULL};
  struct call_spec spec;
  const char *path;
  size_t plen, i;
  int m;
  memset(&spec, 0, sizeof spec);
  client_check(L, 1);
  m = luaL_checkoption(L, 2, NULL, methods);
  path = luaL_checklstring(L, 3, &plen);
  if (plen == 0 || path[0] != '/')
    return luaL_error(L, "client:request: path must start with '/', got '%s'", path);
  for (i = 0; i < plen; i++)
    if ((unsigned char)path[i] <= 32 || path[i] == '?' || path[i] == '#' || (unsigned char)path[i] == 127)
      return luaL_error(L, "client:request: path must not contain spaces, control characters, "
                           "'?' or '#' (pass query parameters in opts.query)");
  /* libcurl would squash "/v2/a/../../x" to "/x", out of the base path, while errors show the
     path as given; a server may do the same with %2E. Neither is ever meant: refused. */
  if (query_find_dot_segment(path, plen) != NULL)
    return luaL_error(L, "client:request: path '%s' has a dot segment ('.' or '..', also as "
                         "%%2E), which would leave the base URL's path", path);
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    spec.opts_idx = 4;
    client_check_keys(L, 4, known, "client:request");
  }
  lua_settop(L, 4);
  if (spec.opts_idx && lua_getfield(L, 4, "query") != LUA_TNIL) {
    if (!lua_istable(L, -1)) return luaL_error(L, "client:request: query must be a table");
    spec.query_idx = lua_gettop(L);
  }
  if (spec.opts_idx && lua_getfield(L, 4, "body") != LUA_TNIL) spec.body_idx = lua_gettop(L);
  spec.method = methods[m];
  spec.path_idx = 3;
  spec.accept = "application/json";
  return call_start(L, 1, &spec);
}

void call_open(lua_State *L) {
  if (luaL_newmetatable(L, CALL_MT)) {
    lua_pushcfunction(L, call_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
