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
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* True when `s` holds `needle` followed (after blanks) by '='. */
static int repl_has_assignment_of(const char *s, const char *needle) {
  size_t n = strlen(needle);
  while ((s = strstr(s, needle)) != NULL) {
    s += n;
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '=' && s[1] != '=') return 1;
  }
  return 0;
}

/*
 * A line that holds the API key never goes to the history: the value of TELNYX_API_KEY, or
 * an `api_key = ...` (the literal given to telnyx.new) anywhere in it.
 */
static int repl_line_is_secret(const char *line) {
  const char *key = getenv("TELNYX_API_KEY");
  if (key != NULL && *key != '\0' && strstr(line, key) != NULL) return 1;
  return repl_has_assignment_of(line, "api_key") || strstr(line, "TELNYX_API_KEY=") != NULL;
}

/*
 * Appends the newest history entry to the file, creating it private: the umask is narrowed
 * only around the write, and an older file is made 0600 too (it may hold account details).
 */
static void repl_history_append(const char *path) {
  mode_t old_umask;
  int fd;
  if (path == NULL) return;
  old_umask = umask(077);
  fd = open(path, O_WRONLY | O_CREAT | O_APPEND, S_IRUSR | S_IWUSR);
  if (fd >= 0) {
    close(fd);
    chmod(path, S_IRUSR | S_IWUSR);
    repl_readline->append_history(1, path); /* readline's append needs the file to exist */
  }
  umask(old_umask);
}

static void repl_history_trim(const char *path) {
  mode_t old_umask;
  if (path == NULL) return;
  old_umask = umask(077);
  if (repl_readline->history_truncate_file(path, REPL_HISTORY_MAX) == 0)
    chmod(path, S_IRUSR | S_IWUSR);
  umask(old_umask);
}

/* Adds the statement at `idx` to the history as typed ("=expr", not "return expr"). */
static void repl_remember(struct repl *r, int idx) {
  const char *line = lua_tostring(r->L, idx);
  if (line == NULL || line[0] == '\0' || repl_line_is_secret(line)) return;
  if (r->eq_form && strncmp(line, "return ", 7) == 0) {
    char *typed = malloc(strlen(line + 6) + 1);
    if (typed == NULL) return;
    typed[0] = '=';
    strcpy(typed + 1, line + 7);
    repl_readline->add_history(typed);
    free(typed);
  } else {
    repl_readline->add_history(line);
  }
  if (r->interactive) repl_history_append(r->history);
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
  repl_readline->using_history();
  repl_readline->stifle_history(REPL_HISTORY_MAX);
  if (!r->interactive) return;
  *repl_readline->rl_attempted_completion_function = repl_complete;
  *repl_readline->rl_completion_display_matches_hook = repl_display_matches;
  *repl_readline->rl_basic_word_break_characters = breaks;
  *repl_readline->rl_completer_word_break_characters = breaks;
  r->history = repl_history_path();
  if (r->history != NULL) repl_readline->read_history(r->history);
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
    repl_history_trim(r.history);
    repl_release_signals();
  }
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &repl_session_key);
  free(r.history);
  return 1;
}
