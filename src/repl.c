/*
 * The interactive loop: readline editing and history, `=expr` and bare expressions, multi-line
 * input. The mechanics follow lua.c (addreturn, incomplete, print results).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <lua.h>
#include <lauxlib.h>

#include "repl.h"

#define REPL_PROMPT "> "
#define REPL_PROMPT2 ">> "
#define REPL_HISTORY_FILE ".telnyx_lua_history"
#define REPL_HISTORY_MAX 1000
#define REPL_EOF_MARK "<eof>"

static const char *repl_prompt(lua_State *L, int firstline) {
  const char *p;
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  p = lua_tostring(L, -1);
  if (p == NULL) p = firstline ? REPL_PROMPT : REPL_PROMPT2;
  lua_pop(L, 1);
  return p;
}

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

/* A line that holds the API key never goes to the history file. */
static int repl_line_is_secret(const char *line) {
  const char *key = getenv("TELNYX_API_KEY");
  if (key != NULL && strlen(key) >= 4 && strstr(line, key) != NULL) return 1;
  return strstr(line, "api_key") != NULL;
}

/* Reads one line into a Lua string on the stack; returns 0 at end of input. */
static int repl_read_line(lua_State *L, int firstline) {
  const char *prompt = repl_prompt(L, firstline);
  char *line = readline(prompt);
  size_t len;
  if (line == NULL) return 0;
  len = strlen(line);
  if (firstline && line[0] == '=') /* "=expr" is "return expr", as in Lua 5.1 */
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushlstring(L, line, len);
  free(line);
  return 1;
}

static void repl_remember(lua_State *L, int idx) {
  const char *line = lua_tostring(L, idx);
  if (line != NULL && line[0] != '\0' && !repl_line_is_secret(line)) add_history(line);
}

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

static int repl_multiline(lua_State *L) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbufferx(L, line, len, "=stdin", "t");
    if (!repl_incomplete(L, status) || !repl_read_line(L, 0)) return status;
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}

/*
 * Reads a whole statement: a line as an expression first, then as statements, joining more
 * lines while the chunk is incomplete. Returns -1 at end of input.
 */
static int repl_load_line(lua_State *L) {
  int status;
  lua_settop(L, 0);
  if (!repl_read_line(L, 1)) return -1;
  if ((status = repl_add_return(L)) != LUA_OK) status = repl_multiline(L);
  repl_remember(L, 1);
  lua_remove(L, 1);
  return status;
}

/* Shows the results through telnyx.repl's printer when loaded, else with `print`. */
static void repl_print(lua_State *L, int (*docall)(lua_State *, int, int)) {
  int n = lua_gettop(L);
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  if (docall(L, n, 0) != LUA_OK) {
    fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
}

static void repl_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
    fflush(stderr);
    lua_pop(L, 1);
  }
}

static void repl_save_history(const char *path) {
  int fd_mode_ok;
  if (path == NULL) return;
  /* Create it private before writing: it may hold account details. */
  fd_mode_ok = (write_history(path) == 0);
  if (fd_mode_ok) {
    chmod(path, S_IRUSR | S_IWUSR);
    history_truncate_file(path, REPL_HISTORY_MAX);
  }
}

void repl_run(lua_State *L, int (*docall)(lua_State *, int, int)) {
  int status;
  char *history = repl_history_path();
  mode_t old_umask = umask(077);
  rl_readline_name = "telnyx-lua";
  using_history();
  if (history != NULL) read_history(history);
  while ((status = repl_load_line(L)) != -1) {
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK)
      repl_print(L, docall);
    else
      repl_report(L, status);
  }
  lua_settop(L, 0);
  fputc('\n', stdout);
  fflush(stdout);
  repl_save_history(history);
  umask(old_umask);
  free(history);
}
