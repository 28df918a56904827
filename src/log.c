/*
 * Logging to stderr at the TELNYX_LOG level. Credentials never reach the log: secret headers
 * and the values of secret JSON keys are replaced by [redacted] while writing. Nor do control
 * sequences: what the API or a user sent is written with control characters as \xNN (see
 * log_write_text), so a body cannot clear the screen, retitle the terminal or hide a line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lua.h>

#include "log.h"

#define LOG_BODY_MAX 65536 /* bytes of a body shown at debug */
#define LOG_REDACTED "[redacted]"

enum log_level log_level_from_env(void) {
  static const char *const names[] = {"off", "error", "warn", "info", "debug"};
  const char *v = getenv("TELNYX_LOG");
  int i;
  if (v == NULL) return LOG_WARN;
  for (i = 0; i < 5; i++)
    if (strcasecmp(v, names[i]) == 0) return (enum log_level)i;
  return LOG_WARN;
}

/*
 * Writes s[0..n) with every control character as \xNN: C0 (but tab, and newline when
 * `keep_newlines`: a pretty-printed body stays readable), DEL, C1 as UTF-8 (U+0080..U+009F:
 * 8-bit CSI and OSC for terminals that read them), and any byte that is not part of valid
 * UTF-8 (a lone 0x9B is CSI to a Latin-1 terminal). Valid UTF-8 text is written as it is.
 */
static void log_write_text(const char *s, size_t n, int keep_newlines) {
  size_t i = 0, start = 0;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    size_t len = 1, k;
    int ok;
    if (c < 0x80) {
      ok = (c >= 0x20 && c != 0x7f) || c == '\t' || (c == '\n' && keep_newlines);
    } else {
      unsigned long cp;
      len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? (c < 0xF0 ? 3 : 0) : c >= 0xC2 ? 2 : 0;
      ok = len > 0 && i + len <= n;
      cp = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
      for (k = 1; ok && k < len; k++) {
        unsigned char d = (unsigned char)s[i + k];
        ok = (d & 0xC0) == 0x80;
        cp = (cp << 6) | (d & 0x3F);
      }
      /* overlong, surrogate, beyond U+10FFFF, or a C1 control */
      if (ok) ok = !(len == 3 && cp < 0x800) && !(len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) &&
                   !(cp >= 0xD800 && cp <= 0xDFFF) && !(cp >= 0x80 && cp <= 0x9F);
      if (!ok) len = 1;
    }
    if (ok) {
      i += len;
      continue;
    }
    fwrite(s + start, 1, i - start, stderr);
    fprintf(stderr, "\\x%02x", c);
    start = ++i;
  }
  fwrite(s + start, 1, n - start, stderr);
}

void log_printf(const char *fmt, ...) {
  char small[512], *text = small;
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof small) { /* a long URL: format again into a buffer of its size */
    text = malloc((size_t)n + 1);
    if (text == NULL) return;
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  flockfile(stderr);
  fputs("telnyx: ", stderr);
  log_write_text(text, (size_t)n, 0);
  fputc('\n', stderr);
  funlockfile(stderr);
  if (text != small) free(text);
}

static int log_names_equal(const char *a, size_t alen, const char *b) {
  return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* Whether name[0..len) contains word, ignoring case. */
static int log_name_contains(const char *name, size_t len, const char *word) {
  size_t i, wn = strlen(word);
  for (i = 0; i + wn <= len; i++)
    if (strncasecmp(name + i, word, wn) == 0) return 1;
  return 0;
}

/*
 * A header that may carry a credential, by a rule on its name rather than a list of names,
 * since servers and users invent their own (X-Api-Token, X-Upstream-Token, X-Session-Id): any
 * name containing one of these words, ignoring case. Idempotency-Key is caught too: hiding a
 * harmless value is the cheap mistake.
 */
int log_is_secret_header(const char *name, size_t len) {
  static const char *const words[] = {"token", "secret", "key", "auth", "passw", "session",
                                      "cookie", "signature", "credential", NULL};
  int i;
  for (i = 0; words[i] != NULL; i++)
    if (log_name_contains(name, len, words[i])) return 1;
  return 0;
}

int log_is_secret_key(const char *key, size_t len) {
  static const char *const secret[] = {"password", "sip_password", "token", "api_key", NULL};
  size_t i;
  for (i = 0; secret[i] != NULL; i++)
    if (log_names_equal(key, len, secret[i])) return 1;
  return log_name_contains(key, len, "secret"); /* any key containing "secret" */
}

/*
 * The request headers the client itself sets, whose values say nothing about the user: shown.
 * Every other request header came from the user (TELNYX_CUSTOM_HEADERS, headers options), and
 * its name does not tell whether it carries a credential (X-Tenant: <an opaque token>), so
 * its value is redacted.
 */
static int log_is_known_request_header(const char *name, size_t len) {
  static const char *const known[] = {"accept", "content-type", "expect", "user-agent", NULL};
  int i;
  for (i = 0; known[i] != NULL; i++)
    if (log_names_equal(name, len, known[i])) return 1;
  return 0;
}

/* log_is_secret_key for the Lua parts (REPL printer, scripts): false for a non-string key. */
static int log_l_is_secret_key(lua_State *L) {
  size_t len = 0;
  const char *key = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
  lua_pushboolean(L, key != NULL && log_is_secret_key(key, len));
  return 1;
}

void log_open(lua_State *L) { lua_pushcfunction(L, log_l_is_secret_key); }

/* Header lines; values redacted when log_is_secret_header, or for a request when the header
   is not one the client sets itself (log_is_known_request_header). */
static void log_header_lines(const char *title, const char *lines, size_t len, int request) {
  const char *p = lines, *end = lines + len;
  flockfile(stderr);
  fprintf(stderr, "telnyx: %s\n", title);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *colon;
    size_t n;
    if (eol == NULL) eol = end;
    n = (size_t)(eol - p);
    while (n > 0 && p[n - 1] == '\r') n--;
    colon = memchr(p, ':', n);
    if (n > 0) {
      fputs("  ", stderr);
      if (colon != NULL && (log_is_secret_header(p, (size_t)(colon - p)) ||
                            (request && !log_is_known_request_header(p, (size_t)(colon - p))))) {
        log_write_text(p, (size_t)(colon - p), 0);
        fputs(": " LOG_REDACTED, stderr);
      } else {
        log_write_text(p, n, 0);
      }
      fputc('\n', stderr);
    }
    p = eol + 1;
  }
  funlockfile(stderr);
}

void log_headers(const char *title, const char *lines, size_t len) {
  log_header_lines(title, lines, len, 0);
}

void log_request_headers(const char *title, const char *lines, size_t len) {
  log_header_lines(title, lines, len, 1);
}

/* Index just past the JSON string whose opening quote is at s[i]. */
static size_t log_skip_string(const char *s, size_t n, size_t i) {
  for (i++; i < n && s[i] != '"'; i++)
    if (s[i] == '\\') i++;
  return i < n ? i + 1 : n;
}

/* Index just past the JSON value starting at s[i] (string, balanced container or scalar). */
static size_t log_skip_value(const char *s, size_t n, size_t i) {
  int depth = 0;
  while (i < n) {
    char c = s[i];
    if (c == '"') {
      i = log_skip_string(s, n, i);
      if (depth == 0) return i;
      continue;
    }
    if (c == '{' || c == '[') depth++;
    if (c == '}' || c == ']') {
      if (depth == 0) return i;
      if (--depth == 0) return i + 1;
    }
    if (c == ',' && depth == 0) return i;
    i++;
  }
  return n;
}

/* Writes JSON text with the values of secret keys replaced. */
static void log_write_redacted(const char *s, size_t n) {
  size_t i = 0, start = 0;
  while (i < n) {
    size_t end, j;
    if (s[i] != '"') {
      i++;
      continue;
    }
    end = log_skip_string(s, n, i);
    j = end;
    while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
    if (j < n && s[j] == ':' && end - i >= 2 && log_is_secret_key(s + i + 1, end - i - 2)) {
      j++;
      while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
      log_write_text(s + start, j - start, 1);
      fputs("\"" LOG_REDACTED "\"", stderr);
      start = i = log_skip_value(s, n, j);
    } else {
      i = end;
    }
  }
  log_write_text(s + start, n - start, 1);
}

void log_body(const char *title, const char *body, size_t len, int secret) {
  size_t shown = len > LOG_BODY_MAX ? LOG_BODY_MAX : len;
  flockfile(stderr);
  fprintf(stderr, "telnyx: %s (%zu bytes)\n  ", title, len);
  if (secret)
    fputs(LOG_REDACTED, stderr);
  else
    log_write_redacted(body, shown);
  if (shown < len) fputs(" [...]", stderr);
  fputc('\n', stderr);
  funlockfile(stderr);
}
