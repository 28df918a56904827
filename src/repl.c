/*
 * The interactive loop. The mechanics follow lua.c (addreturn, incomplete, multi-line input,
 * `=expr`); what is shown and completed comes from lua/telnyx/repl.lua (the "session" table,
 * kept in the registry), which this file calls under protection.
 *
 * On a terminal the line is read with readline's callback interface and pselect, so Ctrl-C at
 * the prompt only clears the line, and Tab completes from live values. When stdin is not a
 * terminal (`-i` with piped input) the loop behaves as stock lua5.4: plain readline(), results
 * shown with `print`, no banner, colour or history file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>

#include "linedit.h"
#include "interrupt.h"
#include "repl.h"

#define REPL_PROMPT "> "
#define REPL_PROMPT2 ">> "
#define REPL_HISTORY_FILE ".telnyx_lua_history"
#define REPL_HISTORY_MAX 1000
#define REPL_TOKEN_MIN 20 /* characters of a string literal that looks like a key */
#define REPL_EOF_MARK "<eof>"
#define REPL_DEFAULT_WIDTH 80

/* What repl_read_line and repl_load_line answer besides a Lua status. */
enum { REPL_EOF = -1, REPL_CANCELLED = -2 };

typedef int (*repl_docall_fn)(lua_State *L, int narg, int nres);

/* How this run of the loop works; lives on repl_run's stack. */
struct repl {
  lua_State *L;
  repl_docall_fn docall;
  int interactive; /* stdin is a terminal */
  int color;       /* stdout is a colour terminal and NO_COLOR is unset */
  int has_session; /* telnyx.repl's session table is in the registry */
  int eq_form;     /* the statement was typed as "=expr" (history keeps it that way) */
  char *history;   /* history file path, or NULL */
};

/* readline's functions and variables, opened by repl_run before anything else here runs. */
static const struct linedit *repl_readline;

/* Registry key (its address) of the session table from require("telnyx.repl").session{...}. */
static const char repl_session_key = 's';

/*
 * readline's callbacks (line handler, completion, match display) take no argument, so what they
 * need must be reachable from a static, as main.c's signal state is. Set only while a line is
 * being read on a terminal, cleared after.
 */
static struct {
  lua_State *L; /* for completion */
  char *line;   /* the line the handler received (NULL at end of input) */
  int done;     /* the handler was called */
} repl_rl;

/* ---- terminal width, for the printer and help ---- */

static int repl_l_width(lua_State *L) {
  struct winsize ws;
  const char *env = getenv("COLUMNS");
  int cols = 0;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) cols = ws.ws_col;
  if (cols == 0 && env != NULL) cols = atoi(env);
  lua_pushinteger(L, cols >= 20 ? cols : REPL_DEFAULT_WIDTH);
  return 1;
}

/* ---- the session (lua/telnyx/repl.lua) ---- */

/* Pushes session[name] (a function) and returns 1, or pushes nothing and returns 0. */
static int repl_session_fn(lua_State *L, const char *name) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &repl_session_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (lua_isfunction(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

static void repl_report(struct repl *r, int status) {
  lua_State *L = r->L;
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    if (r->color)
      fprintf(stderr, "\033[31m%s\033[0m\n", msg);
    else
      fprintf(stderr, "%s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
}

/* Runs session.<name>(...) with the `nargs` values on top; pops them. Returns 0 if no session. */
static int repl_session_call(struct repl *r, const char *name, int nargs, int nres) {
  lua_State *L = r->L;
  int status;
  if (!r->has_session || !repl_session_fn(L, name)) {
    lua_pop(L, nargs);
    return 0;
  }
  lua_insert(L, -(nargs + 1));
  status = r->docall(L, nargs, nres);
  lua_sethook(L, NULL, 0, 0);
  if (status != LUA_OK) {
    repl_report(r, status);
    return 0;
  }
  return 1;
}

/*
 * Sets up the REPL's globals (telnyx, help, client) and the session table through
 * require("telnyx.repl").session{color=, interactive=, width=}. The telnyx module goes first:
 * loading it is what registers its embedded Lua parts.
 */
static void repl_open_session(struct repl *r) {
  lua_State *L = r->L;
  int status;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "telnyx");
  status = r->docall(L, 1, 0);
  if (status == LUA_OK) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "telnyx.repl");
    status = r->docall(L, 1, 1);
  }
  if (status == LUA_OK) {
    lua_getfield(L, -1, "session");
    lua_remove(L, -2);
    lua_createtable(L, 0, 3);
    lua_pushboolean(L, r->color);
    lua_setfield(L, -2, "color");
    lua_pushboolean(L, r->interactive);
    lua_setfield(L, -2, "interactive");
    lua_pushcfunction(L, repl_l_width);
    lua_setfield(L, -2, "width");
    status = r->docall(L, 1, 1);
  }
  if (status != LUA_OK) {
    repl_report(r, status);
    return;
  }
  lua_rawsetp(L, LUA_REGISTRYINDEX, &repl_session_key);
  r->has_session = 1;
}

/* ---- completion ---- */

/* Longest common prefix of matches[1..n], malloc'd. */
static char *repl_common_prefix(char **matches, int n) {
  size_t len = strlen(matches[1]);
  int i;
  char *p;
  for (i = 2; i <= n; i++) {
    size_t j = 0;
    while (j < len && matches[i][j] == matches[1][j]) j++;
    len = j;
  }
  p = malloc(len + 1);
  if (p != NULL) {
    memcpy(p, matches[1], len);
    p[len] = '\0';
  }
  return p;
}

/*
 * Protected part of completion: session.complete(text, before) -> array of strings, turned into
 * readline's malloc'd match list (returned as a light userdata; NULL when none); `before` is the
 * line up to the word (a call's table completes its parameter names). After the Lua call only
 * non-raising API functions run, so nothing malloc'd can leak through an error.
 */
static int repl_l_candidates(lua_State *L) {
  const char *text = lua_touserdata(L, 1);
  const char *line = lua_touserdata(L, 2);
  lua_Integer start = lua_tointeger(L, 3);
  char **matches;
  lua_Integer n, i;
  int ok = 1;
  if (!repl_session_fn(L, "complete")) return 0;
  lua_pushstring(L, text);
  if (line != NULL && start >= 0 && (size_t)start <= strlen(line))
    lua_pushlstring(L, line, (size_t)start);
  else
    lua_pushnil(L);
  lua_call(L, 2, 1);
  if (!lua_istable(L, -1)) return 0;
  n = (lua_Integer)lua_rawlen(L, -1);
  if (n <= 0 || n > 100000) return 0;
  matches = calloc((size_t)n + 2, sizeof *matches);
  if (matches == NULL) return 0;
  for (i = 1; i <= n && ok; i++) {
    const char *s;
    if (lua_rawgeti(L, -1, i) == LUA_TSTRING && (s = lua_tostring(L, -1)) != NULL)
      ok = (matches[i] = strdup(s)) != NULL;
    else
      ok = 0;
    lua_pop(L, 1);
  }
  if (ok) {
    if (n == 1) { /* one match: it is the substitution itself */
      matches[0] = matches[1];
      matches[1] = NULL;
    } else {
      ok = (matches[0] = repl_common_prefix(matches, (int)n)) != NULL;
    }
  }
  if (!ok) {
    for (i = 0; i <= n; i++) free(matches[i]); /* matches[0] is still NULL here */
    free(matches);
    return 0;
  }
  lua_pushlightuserdata(L, matches);
  return 1;
}

/* rl_attempted_completion_function: never raises, never falls back to file names. */
static char **repl_complete(const char *text, int start, int end) {
  lua_State *L = repl_rl.L;
  char **matches = NULL;
  int top;
  (void)end;
  *repl_readline->rl_attempted_completion_over = 1;
  /* no space after a match: "client.billing_groups" may go on with ':' */
  *repl_readline->rl_completion_append_character = '\0';
  if (L == NULL || !lua_checkstack(L, 6)) return NULL;
  top = lua_gettop(L);
  lua_pushcfunction(L, repl_l_candidates);
  lua_pushlightuserdata(L, (void *)text);
  lua_pushlightuserdata(L, *repl_readline->rl_line_buffer);
  lua_pushinteger(L, start);
  if (lua_pcall(L, 3, 1, 0) == LUA_OK && lua_islightuserdata(L, -1))
    matches = lua_touserdata(L, -1);
  lua_settop(L, top);
  return matches;
}

/* Lists "client.billing_groups:create ..." as "create ...": only the part being completed. */
static void repl_display_matches(char **matches, int num, int max_length) {
  char **shown = malloc(((size_t)num + 2) * sizeof *shown);
  int i, longest = 0;
  (void)max_length;
  if (shown == NULL) return;
  shown[0] = matches[0];
  for (i = 1; i <= num; i++) {
    const char *dot = strrchr(matches[i], '.');
    const char *colon = strrchr(matches[i], ':');
    const char *sep = (dot == NULL || (colon != NULL && colon > dot)) ? colon : dot;
    int len;
    shown[i] = sep != NULL ? (char *)sep + 1 : matches[i];
    len = (int)strlen(shown[i]);
    if (len > longest) longest = len;
  }
  shown[num + 1] = NULL;
  repl_readline->rl_display_match_list(shown, num, longest);
  repl_readline->rl_forced_update_display();
  free(shown);
}

/* ---- reading lines ---- */

/* Pushes _PROMPT (or _PROMPT2) and returns it as text; pop it once the line is read. */
static const char *repl_push_prompt(lua_State *L, int firstline) {
  const char *p;
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  p = lua_tostring(L, -1);
  return p != NULL ? p : firstline ? REPL_PROMPT : REPL_PROMPT2;
}

static void repl_on_line(char *line) {
  repl_rl.line = line;
  repl_rl.done = 1;
  repl_readline->rl_callback_handler_remove(); /* no new prompt until the next line is asked for */
}

/*
 * SIGINT at the prompt only raises the process-wide interrupt flag; any caught signal (SIGWINCH
 * too) also wakes pselect.
 */
static void repl_on_signal(int sig) {
  if (sig == SIGINT) interrupt_raise();
}

static void repl_catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = repl_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART: pselect must return */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGWINCH, &sa, NULL);
}

static void repl_release_signals(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGWINCH, SIG_DFL);
}

/* Ctrl-C at the prompt: show it, drop the half-typed line, leave the terminal as it was. */
static void repl_cancel_line(void) {
  repl_readline->rl_echo_signal_char(SIGINT);
  repl_readline->rl_free_line_state();
  repl_readline->rl_callback_sigcleanup();
  repl_readline->rl_cleanup_after_signal();
  repl_readline->rl_callback_handler_remove();
  fputc('\n', *repl_readline->rl_outstream);
  fflush(*repl_readline->rl_outstream);
}

/*
 * One line from the terminal: 1 and the line in repl_rl.line, 0 at end of input, or
 * REPL_CANCELLED on Ctrl-C. SIGINT and SIGWINCH are blocked except inside pselect, so a
 * signal can neither be lost between the flag test and the wait nor land inside readline.
 */
static int repl_wait_line(lua_State *L, const char *prompt) {
  sigset_t block, orig;
  int fd = fileno(*repl_readline->rl_instream ? *repl_readline->rl_instream : stdin);
  int result;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGWINCH);
  repl_catch_signals();
  sigprocmask(SIG_BLOCK, &block, &orig);
  (void)interrupt_take(); /* a leftover nobody raised for must not cancel this line */
  repl_rl.L = L;
  repl_rl.line = NULL;
  repl_rl.done = 0;
  repl_readline->rl_callback_handler_install(prompt, repl_on_line);
  for (;;) {
    fd_set fds;
    int n;
    if (repl_rl.done) {
      result = repl_rl.line != NULL;
      break;
    }
    if (interrupt_take()) { /* no Lua runs here: cancelling the line is what reports it */
      repl_cancel_line();
      result = REPL_CANCELLED;
      break;
    }
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    n = pselect(fd + 1, &fds, NULL, NULL, NULL, &orig);
    if (n < 0) {
      if (errno == EINTR) {
        if (!interrupt_pending()) repl_readline->rl_resize_terminal(); /* SIGWINCH */
        continue;
      }
      repl_readline->rl_callback_handler_remove();
      result = 0;
      break;
    }
    if (n > 0) repl_readline->rl_callback_read_char();
  }
  repl_rl.L = NULL;
  sigprocmask(SIG_SETMASK, &orig, NULL);
  return result;
}

/* Reads one line into a Lua string on the stack: 1, 0 at end of input, or REPL_CANCELLED. */
static int repl_read_line(struct repl *r, int firstline) {
  lua_State *L = r->L;
  const char *prompt = repl_push_prompt(L, firstline);
  char *line;
  if (r->interactive) {
    int got = repl_wait_line(L, prompt);
    lua_pop(L, 1);
    if (got != 1) return got;
    line = repl_rl.line;
    repl_rl.line = NULL;
  } else {
    line = repl_readline->readline(prompt);
    lua_pop(L, 1);
    if (line == NULL) return 0;
  }
  if (firstline) r->eq_form = (line[0] == '=');
  if (firstline && line[0] == '=') /* "=expr" is "return expr", as in Lua 5.1 */
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushstring(L, line);
  free(line);
  return 1;
}

/* ---- history ---- */

/* Full path of the history file in the user's home, or NULL when there is no home. */
static char *repl_history_path(void) {
  const char *home = getenv("HOME");
  size_t n;
  char *path;
  if (home == NULL || *home == '\0') return NULL;
  n = strlen(home) + sizeof(REPL_HISTORY_FILE) + 1;
  path = malloc(n);
  if (path != NULL) snprintf(path, n, "%s/%s", home, REPL_HISTORY_FILE);
  return path;
}

/* Whether s holds word, ignoring ASCII case. */
static int repl_contains_nocase(const char *s, const char *word) {
  size_t n = strlen(word);
  for (; *s != '\0'; s++)
    if (strncasecmp(s, word, n) == 0) return 1;
  return 0;
}

/* A UUID (8-4-4-4-12 hex digits): what the API's ids look like, not a key. */
static int repl_is_uuid(const char *s, size_t n) {
  size_t i;
  if (n != 36) return 0;
  for (i = 0; i < n; i++) {
    int dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return 0;
  }
  return 1;
}

/* Whether a string literal's text s[0..n) holds a run of REPL_TOKEN_MIN or more token
   characters with both letters and digits that is not a UUID: how keys and tokens look. */
static int repl_has_token(const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    int alpha = 0, digit = 0;
    while (i < n && (isalnum((unsigned char)s[i]) || (s[i] != '\0' && strchr("_-+/=.", s[i]) != NULL))) {
      alpha |= isalpha((unsigned char)s[i]) != 0;
      digit |= isdigit((unsigned char)s[i]) != 0;
      i++;
    }
    if (i - start >= REPL_TOKEN_MIN && alpha && digit && !repl_is_uuid(s + start, i - start)) return 1;
    if (i == start) i++;
  }
  return 0;
}

/* Whether any string literal of the chunk ('...', "...", [[...]], [==[...]==]) looks like a
   key (repl_has_token). Escapes are skipped, not decoded: the check is on what was typed. */
static int repl_has_token_literal(const char *s) {
  while (*s != '\0') {
    const char *open = s, *close;
    if (*s == '"' || *s == '\'') {
      char q = *s++;
      while (*s != '\0' && *s != q && *s != '\n') s += (*s == '\\' && s[1] != '\0') ? 2 : 1;
      if (repl_has_token(open + 1, (size_t)(s - open - 1))) return 1;
      if (*s != '\0') s++;
    } else if (*s == '[' && (s[1] == '[' || s[1] == '=')) {
      size_t level = 0;
      char closing[64];
      for (s++; *s == '=' && level < sizeof closing - 3; s++) level++;
      if (*s != '[') continue;
      closing[0] = ']';
      memset(closing + 1, '=', level);
      closing[level + 1] = ']';
      closing[level + 2] = '\0';
      close = strstr(++s, closing);
      if (close == NULL) close = s + strlen(s);
      if (repl_has_token(s, (size_t)(close - s))) return 1;
      s = *close != '\0' ? close + level + 2 : close;
    } else {
      s++;
    }
  }
  return 0;
}

/*
 * Whether a statement may hold the API key; such a statement never goes to the history. Text
 * cannot tell every way of building a key (string.char, a key read from a file), so the rule
 * errs towards leaving statements out, and covers the ways of typing one:
 * - the value of TELNYX_API_KEY anywhere in it;
 * - the words "api" and "key" anywhere, ignoring case: api_key = ..., ["api_key"] = ...,
 *   o["API_KEY"], rawset(o, "api".."_key", ...), ("api_"):lower().."key", TELNYX_API_KEY=...,
 *   and across lines (the statement is checked whole, after multi-line input joined it);
 * - a string literal that looks like a key or token (repl_has_token: 20 or more of
 *   [A-Za-z0-9_-+/=.] with letters and digits, UUIDs excepted, as ids are UUIDs).
 */
static int repl_statement_is_secret(const char *chunk) {
  const char *key = getenv("TELNYX_API_KEY");
  if (key != NULL && *key != '\0' && strstr(chunk, key) != NULL) return 1;
  if (repl_contains_nocase(chunk, "api") && repl_contains_nocase(chunk, "key")) return 1;
  return repl_has_token_literal(chunk);
}

/*
 * The history file is the user's own regular file, or nothing: it is opened without following
 * a symlink (O_NOFOLLOW; one planted there would have us chmod, append to and truncate its
 * target, or create a dangling one's target) and refused when it is not a regular file owned
 * by the user. Readline's own history file functions open by path, so the file is read,
 * appended and trimmed here, on the checked descriptor, in readline's format (a line an entry).
 */
static int repl_history_open(const char *path, int flags, const char **why) {
  struct stat st;
  int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    *why = errno == ELOOP ? "it is a symbolic link" : errno == ENOENT ? NULL : strerror(errno);
    return -1;
  }
  if (fstat(fd, &st) != 0) {
    *why = strerror(errno);
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != getuid()) {
    *why = !S_ISREG(st.st_mode) ? "it is not a regular file" : "it is not owned by you";
    close(fd);
    return -1;
  }
  return fd;
}

/* Says once why there is no history, and turns it off for the session. */
static void repl_history_refuse(struct repl *r, const char *why) {
  fprintf(stderr, "telnyx-lua: not following %s for the history (%s); history is off\n", r->history, why);
  fflush(stderr);
  free(r->history);
  r->history = NULL;
}

/* Reads the whole file at fd into a malloc'ed buffer (NUL-terminated); NULL on failure. */
static char *repl_read_all(int fd, size_t *len) {
  size_t cap = 4096, n = 0;
  char *data = malloc(cap);
  ssize_t got;
  while (data != NULL && (got = read(fd, data + n, cap - n - 1)) > 0) {
    n += (size_t)got;
    if (cap - n - 1 == 0) {
      char *more = realloc(data, cap * 2);
      if (more == NULL) free(data);
      data = more;
      cap *= 2;
    }
  }
  if (data != NULL) data[n] = '\0';
  *len = n;
  return data;
}

static void repl_history_load(struct repl *r) {
  const char *why = NULL;
  size_t len;
  char *data, *line, *next;
  int fd = repl_history_open(r->history, O_RDONLY, &why);
  if (fd < 0) {
    if (why != NULL) repl_history_refuse(r, why);
    return;
  }
  data = repl_read_all(fd, &len);
  close(fd);
  for (line = data; line != NULL && line < data + len; line = next + 1) {
    next = strchr(line, '\n');
    if (next == NULL) next = data + len;
    *next = '\0';
    if (*line != '\0') repl_readline->add_history(line);
  }
  free(data);
}

/* Appends one entry to the file, created private (0600, also an older file: it may hold
   account details). */
static void repl_history_append(struct repl *r, const char *entry) {
  const char *why = NULL;
  int fd;
  if (r->history == NULL) return;
  fd = repl_history_open(r->history, O_WRONLY | O_CREAT | O_APPEND, &why);
  if (fd < 0) {
    repl_history_refuse(r, why ? why : strerror(errno));
    return;
  }
  if (fchmod(fd, S_IRUSR | S_IWUSR) == 0 && write(fd, entry, strlen(entry)) >= 0) {
    if (write(fd, "\n", 1) < 0) { /* a full disk: the history is best effort */
    }
  }
  close(fd);
}

/* Keeps the newest REPL_HISTORY_MAX lines of the file. */
static void repl_history_trim(struct repl *r) {
  const char *why = NULL;
  size_t len, lines = 0, i;
  char *data;
  int fd;
  if (r->history == NULL) return;
  fd = repl_history_open(r->history, O_RDWR, &why);
  if (fd < 0) return;
  data = repl_read_all(fd, &len);
  for (i = 0; data != NULL && i < len; i++) lines += data[i] == '\n';
  if (data != NULL && lines > REPL_HISTORY_MAX) {
    size_t drop = lines - REPL_HISTORY_MAX, from = 0;
    for (i = 0; i < len && drop > 0; i++)
      if (data[i] == '\n' && --drop == 0) from = i + 1;
    if (pwrite(fd, data + from, len - from, 0) == (ssize_t)(len - from) && ftruncate(fd, (off_t)(len - from)) == 0)
      (void)fchmod(fd, S_IRUSR | S_IWUSR);
  }
  free(data);
  close(fd);
}

/* Adds the statement at `idx` to the history as typed ("=expr", not "return expr"). */
static void repl_remember(struct repl *r, int idx) {
  const char *line = lua_tostring(r->L, idx);
  if (line == NULL || line[0] == '\0' || repl_statement_is_secret(line)) return;
  if (r->eq_form && strncmp(line, "return ", 7) == 0) {
    char *typed = malloc(strlen(line + 6) + 1);
    if (typed == NULL) return;
    typed[0] = '=';
    strcpy(typed + 1, line + 7);
    repl_readline->add_history(typed);
    if (r->interactive) repl_history_append(r, typed);
    free(typed);
  } else {
    repl_readline->add_history(line);
    if (r->interactive) repl_history_append(r, line);
  }
}

/* ---- loading a statement ---- */

/* Tries the line as an expression ("return <line>"); on failure leaves the stack as it was. */
static int repl_add_return(lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbufferx(L, retline, strlen(retline), "=stdin", "t");
  if (status == LUA_OK)
    lua_remove(L, -2);
  else
    lua_pop(L, 2);
  return status;
}

/* A syntax error at <eof> means the chunk is unfinished: keep reading. */
static int repl_incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    size_t lmark = sizeof(REPL_EOF_MARK) - 1;
    if (lmsg >= lmark && strcmp(msg + lmsg - lmark, REPL_EOF_MARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Joins lines while the chunk is incomplete; REPL_CANCELLED when Ctrl-C drops it. */
static int repl_multiline(struct repl *r) {
  lua_State *L = r->L;
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbufferx(L, line, len, "=stdin", "t");
    int got;
    if (!repl_incomplete(L, status)) return status;
    got = repl_read_line(r, 0);
    if (got == REPL_CANCELLED) return REPL_CANCELLED;
    if (got == 0) {
      /* end of input inside a chunk: report the syntax error as lua.c does */
      return luaL_loadbufferx(L, line, len, "=stdin", "t");
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/*
 * Reads a whole statement: a line as an expression first, then as statements, joining more
 * lines while the chunk is incomplete. Returns REPL_EOF at end of input, REPL_CANCELLED after
 * Ctrl-C, else the load status with the chunk (or error) on top.
 */
static int repl_load_line(struct repl *r) {
  lua_State *L = r->L;
  int status, got;
  lua_settop(L, 0);
  got = repl_read_line(r, 1);
  if (got != 1) return got == 0 ? REPL_EOF : got;
  if ((status = repl_add_return(L)) != LUA_OK) status = repl_multiline(r);
  if (status == REPL_CANCELLED) {
    lua_settop(L, 0);
    return status;
  }
  repl_remember(r, 1);
  lua_remove(L, 1);
  return status;
}

/* ---- showing results ---- */

/* Results pretty-printed by the session on a terminal, else with `print` as lua.c does. */
static void repl_print(struct repl *r) {
  lua_State *L = r->L;
  int n = lua_gettop(L);
  if (n == 0) return;
  if (r->interactive && r->has_session) {
    repl_session_call(r, "show", n, 0);
    return;
  }
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  if (r->docall(L, n, 0) != LUA_OK) {
    fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

static void repl_banner(struct repl *r) {
  if (repl_session_call(r, "banner", 0, 1)) {
    const char *text = lua_tostring(r->L, -1);
    if (text != NULL) fputs(text, stdout);
    fflush(stdout);
    lua_pop(r->L, 1);
  }
}

static void repl_init_readline(struct repl *r) {
  /* '.' and ':' belong to the word, so "client.billing_groups:cr" is completed as a whole. */
  static const char breaks[] = " \t\n\"\\'`@$><=;|&{(,+-*/%^#~[]}";
  *repl_readline->rl_readline_name = "telnyx-lua";
  /* SIGINT and SIGWINCH are the REPL's own (repl_wait_line): readline is not to install and
     remove handlers of its own around each character it reads. */
  *repl_readline->rl_catch_signals = 0;
  *repl_readline->rl_catch_sigwinch = 0;
  repl_readline->using_history();
  repl_readline->stifle_history(REPL_HISTORY_MAX);
  if (!r->interactive) return;
  *repl_readline->rl_attempted_completion_function = repl_complete;
  *repl_readline->rl_completion_display_matches_hook = repl_display_matches;
  *repl_readline->rl_basic_word_break_characters = breaks;
  *repl_readline->rl_completer_word_break_characters = breaks;
  r->history = repl_history_path();
  if (r->history != NULL) repl_history_load(r);
}

/* Colour only on a terminal that has it: NO_COLOR (no-color.org) or TERM unset or "dumb"
   (an editor's shell buffer, a script's pty) turn it off, as in git and ls. */
static int repl_use_color(void) {
  const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
  if (no_color != NULL && *no_color != '\0') return 0;
  return term != NULL && *term != '\0' && strcmp(term, "dumb") != 0 && isatty(STDOUT_FILENO);
}

int repl_run(lua_State *L, int (*docall)(lua_State *, int, int)) {
  struct repl r;
  char err[256];
  int status;
  if (repl_readline == NULL && (repl_readline = linedit_open(err, sizeof err)) == NULL) {
    fprintf(stderr, "telnyx-lua: the REPL needs GNU readline (package libreadline8): %s\n", err);
    fflush(stderr);
    return 0;
  }
  memset(&r, 0, sizeof r);
  r.L = L;
  r.docall = docall;
  r.interactive = isatty(STDIN_FILENO);
  r.color = r.interactive && repl_use_color();
  repl_init_readline(&r);
  repl_open_session(&r);
  if (r.interactive) repl_banner(&r);
  while ((status = repl_load_line(&r)) != REPL_EOF) {
    if (status == REPL_CANCELLED) continue;
    if (status == LUA_OK) {
      status = docall(L, 0, LUA_MULTRET);
      /* A Ctrl-C seen by a transfer or a task left the hook set: remove it. A flag nobody
         raised for is dropped before the next line is read (see interrupt.h). */
      lua_sethook(L, NULL, 0, 0);
    }
    if (status == LUA_OK)
      repl_print(&r);
    else
      repl_report(&r, status);
  }
  lua_settop(L, 0);
  fputc('\n', stdout);
  fflush(stdout);
  if (r.interactive) {
    repl_history_trim(&r);
    repl_release_signals();
  }
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &repl_session_key);
  free(r.history);
  return 1;
}
