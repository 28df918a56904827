/*
 * Connection settings of a client: which CAs it trusts and which proxy it goes through.
 * Resolved here once, in telnyx.new, rather than left to libcurl's own reading of the
 * environment: the client then knows what it uses, so errors and logs can name it (without a
 * proxy's credentials), and plain http:// (loopback only) never goes through a proxy.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "conn.h"

static char *conn_strdup(lua_State *L, const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p == NULL) luaL_error(L, "not enough memory");
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* getenv, with an empty value read as unset. */
static const char *conn_env(const char *name) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? v : NULL;
}

/* ---- NO_PROXY, as curl 7.86+ reads it (lib/noproxy.c) ---- */

/* Whether the IP `host` is inside `pattern` (an address, or address/bits). */
static int conn_ip_matches(int family, const unsigned char *addr, const char *pattern, size_t n) {
  unsigned char want[16];
  char tmp[64];
  const char *slash;
  size_t len = family == AF_INET ? 4 : 16;
  unsigned bits = (unsigned)len * 8, i;
  if (n >= sizeof tmp) return 0;
  memcpy(tmp, pattern, n);
  tmp[n] = '\0';
  if ((slash = strchr(tmp, '/')) != NULL) {
    bits = (unsigned)atoi(slash + 1);
    tmp[slash - tmp] = '\0';
    if (bits > len * 8) return 0;
    if (bits == 0) bits = (unsigned)len * 8; /* as curl: "/0" is the address alone */
  }
  if (inet_pton(family, tmp, want) != 1) return 0;
  for (i = 0; i < bits; i++) {
    unsigned byte = i / 8, mask = 0x80u >> (i % 8);
    if ((addr[byte] & mask) != (want[byte] & mask)) return 0;
  }
  return 1;
}

int conn_no_proxy_matches(const char *no_proxy, const char *host) {
  unsigned char addr[16];
  int family = 0;
  size_t hlen = strlen(host);
  char ip6[64];
  const char *p = no_proxy;
  if (no_proxy == NULL || *no_proxy == '\0') return 0;
  if (strcmp(no_proxy, "*") == 0) return 1;
  if (host[0] == '[' && hlen > 2 && hlen - 2 < sizeof ip6) { /* [::1] is compared as ::1 */
    memcpy(ip6, host + 1, hlen - 2);
    ip6[hlen - 2] = '\0';
    if (inet_pton(AF_INET6, ip6, addr) == 1) family = AF_INET6;
  } else if (inet_pton(AF_INET, host, addr) == 1) {
    family = AF_INET;
  } else if (hlen > 0 && host[hlen - 1] == '.') {
    hlen--; /* a trailing dot does not count */
  }
  while (*p != '\0') {
    const char *tok;
    size_t n;
    while (*p == ' ' || *p == '\t') p++;
    tok = p;
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',') p++;
    n = (size_t)(p - tok);
    if (n > 0 && family != 0) {
      if (conn_ip_matches(family, addr, tok, n)) return 1;
    } else if (n > 0) {
      if (tok[n - 1] == '.') n--;
      if (n > 0 && tok[0] == '.') tok++, n--;
      if (n == hlen && strncasecmp(tok, host, n) == 0) return 1;
      if (n > 0 && n < hlen && host[hlen - n - 1] == '.' && strncasecmp(tok, host + hlen - n, n) == 0)
        return 1;
    }
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
  }
  return 0;
}

/* ---- the proxy ---- */

/* The proxy URL without its credentials: "http://[redacted]@host:port". Pushes it. */
static const char *conn_push_shown(lua_State *L, const char *url) {
  const char *rest = strstr(url, "://");
  const char *auth_start = rest ? rest + 3 : url;
  const char *at = strrchr(auth_start, '@');
  if (at == NULL) return lua_pushstring(L, url);
  lua_pushlstring(L, url, (size_t)(auth_start - url));
  return lua_pushfstring(L, "%s[redacted]%s", lua_tostring(L, -1), at);
}

/* Checks a proxy URL; raises naming where it came from, never showing its credentials. */
static void conn_check_proxy(lua_State *L, const char *url, const char *from) {
  static const char *const schemes[] = {"http", "https", "socks4", "socks4a", "socks5", "socks5h", NULL};
  const char *sep = strstr(url, "://"), *host;
  const unsigned char *s;
  int i, known = sep == NULL;
  for (s = (const unsigned char *)url; *s != '\0'; s++)
    if (*s <= ' ' || *s == 127) {
      conn_push_shown(L, url);
      luaL_error(L, "telnyx.new: the proxy (%s) contains spaces or control characters", from);
    }
  for (i = 0; sep != NULL && schemes[i] != NULL; i++)
    if (strlen(schemes[i]) == (size_t)(sep - url) && strncasecmp(url, schemes[i], (size_t)(sep - url)) == 0) known = 1;
  host = sep ? sep + 3 : url;
  if (strrchr(host, '@') != NULL) host = strrchr(host, '@') + 1;
  if (!known || *host == '\0' || *host == '/' || *host == ':')
    luaL_error(L, "telnyx.new: the proxy (%s) must be a URL such as http://host:port (http, https, "
                  "socks4, socks4a, socks5 or socks5h), got %s", from, conn_push_shown(L, url));
}

/* The host of an http(s) URL as NO_PROXY sees it: "[::1]", "127.0.0.1", "api.telnyx.com". */
static const char *conn_push_host(lua_State *L, const char *url) {
  const char *host = strstr(url, "://");
  size_t n;
  host = host ? host + 3 : url;
  if (host[0] == '[') {
    const char *close = strchr(host, ']');
    n = close ? (size_t)(close - host) + 1 : strlen(host);
  } else {
    n = strcspn(host, ":/?#");
  }
  return lua_pushlstring(L, host, n);
}

/*
 * The proxy for a client of base_url: the option (a URL; false or "" for none), else curl's
 * variables for an https URL (https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY: the first set
 * wins, even empty), minus NO_PROXY. Plain http:// is loopback only and never proxied.
 */
static void conn_resolve_proxy(lua_State *L, struct http_conn *s, int opts_idx, const char *base_url) {
  static const char *const vars[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", NULL};
  const char *url = NULL, *from = NULL, *no_proxy;
  int i, t = lua_getfield(L, opts_idx, "proxy");
  if (t == LUA_TSTRING) {
    url = lua_tostring(L, -1);
    from = "the proxy option";
  } else if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
    from = "none";
  } else if (t != LUA_TNIL) {
    luaL_error(L, "telnyx.new: proxy must be a URL string, or false for none");
  }
  for (i = 0; from == NULL && vars[i] != NULL; i++)
    if ((url = getenv(vars[i])) != NULL) from = vars[i];
  if (url == NULL || *url == '\0' || strncasecmp(base_url, "http://", 7) == 0) return;
  no_proxy = getenv("no_proxy") ? getenv("no_proxy") : getenv("NO_PROXY");
  if (conn_no_proxy_matches(no_proxy, conn_push_host(L, base_url))) return;
  conn_check_proxy(L, url, from);
  s->proxy = conn_strdup(L, url, strlen(url));
  conn_push_shown(L, url);
  s->proxy_shown = conn_strdup(L, lua_tostring(L, -1), lua_rawlen(L, -1));
  s->proxy_from = from;
}

/* ---- trust ---- */

static void conn_check_ca_file(lua_State *L, const char *path, const char *from) {
  struct stat st;
  FILE *f;
  if (*path == '\0') luaL_error(L, "telnyx.new: %s is empty (name a PEM file of CA certificates)", from);
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    luaL_error(L, "telnyx.new: %s names a directory, %s; it takes a PEM file (for a directory of "
                  "hashed certificates, set SSL_CERT_DIR)", from, path);
  if ((f = fopen(path, "rb")) == NULL) luaL_error(L, "telnyx.new: %s: cannot read %s", from, path);
  fclose(f);
}

/*
 * The CAs: the ca_bundle option or TELNYX_CA_BUNDLE, trusted alone; else SSL_CERT_FILE and
 * SSL_CERT_DIR, each replacing its own half of the system's defaults, as OpenSSL's default
 * verify paths (and so Python's ssl) read them.
 */
static void conn_resolve_ca(lua_State *L, struct http_conn *s, int opts_idx) {
  const char *file = NULL, *from = NULL;
  int t = lua_getfield(L, opts_idx, "ca_bundle");
  if (t == LUA_TSTRING) {
    file = lua_tostring(L, -1);
    from = "ca_bundle";
  } else if (t != LUA_TNIL) {
    luaL_error(L, "telnyx.new: ca_bundle must be the path of a PEM file");
  } else if ((file = conn_env("TELNYX_CA_BUNDLE")) != NULL) {
    from = "TELNYX_CA_BUNDLE";
  }
  if (file != NULL) {
    conn_check_ca_file(L, file, from);
    s->ca_only = 1;
  } else {
    const char *dir = conn_env("SSL_CERT_DIR");
    if ((file = conn_env("SSL_CERT_FILE")) != NULL) from = "SSL_CERT_FILE";
    if (dir != NULL) s->ca_path = conn_strdup(L, dir, strlen(dir));
  }
  if (file != NULL) s->ca_file = conn_strdup(L, file, strlen(file));
  s->ca_from = from;
}

void conn_resolve(lua_State *L, struct http_conn *s, int opts_idx, const char *base_url) {
  int top = lua_gettop(L);
  conn_resolve_ca(L, s, opts_idx);
  conn_resolve_proxy(L, s, opts_idx, base_url);
  lua_settop(L, top);
}

void conn_free(struct http_conn *s) {
  if (s->proxy != NULL) memset(s->proxy, 0, strlen(s->proxy));
  free(s->proxy);
  free(s->proxy_shown);
  free(s->ca_file);
  free(s->ca_path);
  s->proxy = s->proxy_shown = s->ca_file = s->ca_path = NULL;
  s->proxy_from = s->ca_from = NULL;
  s->ca_only = 0;
}
