/*
 * telnyx-lua: the host. A drop-in for the stock lua5.4 interpreter (same options, same `arg`,
 * same exit codes) with the telnyx module preloaded, and a REPL for exploring an account.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "alloc.h"
#include "interrupt.h"
#include "repl.h"
#include "telnyx.h"

#define PROGNAME "telnyx-lua"
#define INIT_VAR_VERSIONED "LUA_INIT_5_4"
#define INIT_VAR "LUA_INIT"

/* Bits of `collectargs`'s result: which options were seen. */
enum {
  HAS_ERROR = 1, /* bad option */
  HAS_I = 2,     /* -i */
  HAS_V = 4,     /* -v */
  HAS_E = 8,     /* -e */
  HAS_BIG_E = 16, /* -E */
  HAS_HELP = 32,  /* --help */
  HAS_VERSION = 64 /* --version */
};

/*
 * The one C global of the host, as in lua.c: a signal handler gets no context, so the state it
 * must interrupt has to be reachable from a static. Set only while a chunk runs.
 */
static lua_State *main_running_state = NULL;

static void main_print_usage(const char *badoption) {
  fprintf(stderr, PROGNAME ": ");
  if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "'%s' needs argument\n", badoption);
  else
    fprintf(stderr, "unrecognized option '%s'\n", badoption);
  fprintf(stderr,
          "usage: " PROGNAME " [options] [script [args]]\n"
          "Available options are:\n"
          "  -e stat   execute string 'stat'\n"
          "  -i        enter interactive mode after executing 'script'\n"
          "  -l mod    require library 'mod' into global 'mod'\n"
          "  -l g=mod  require library 'mod' into global 'g'\n"
          "  -v        show version information\n"
          "  -E        ignore environment variables\n"
          "  -W        turn warnings on\n"
          "  --        stop handling options\n"
          "  -         stop handling options and execute stdin\n");
}

static void main_message(const char *progname, const char *msg) {
  if (progname) fprintf(stderr, "%s: ", progname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Prints the error on top of the stack, if any, and pops it. */
static int main_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    main_message(PROGNAME, msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

/* True when the user asked for tracebacks (TELNYX_LOG=debug). */
static int main_wants_traceback(void) {
  const char *level = getenv("TELNYX_LOG");
  return level != NULL && strcasecmp(level, "debug") == 0; /* read as log.c reads it */
}

/*
 * Message handler: turns any error value into one line of text (error objects through their
 * __tostring), adding a traceback only on request, so users see a clean one-line failure.
 */
static int main_msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  if (main_wants_traceback()) luaL_traceback(L, L, msg, 1);
  return 1;
}

static void main_stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  /* A telnyx call that saw the interrupt already raised its own error and took the flag:
     raising again here would replace that error before a pcall could look at it. */
  if (interrupt_take()) luaL_error(L, "interrupted!");
}

/*
 * SIGINT: as lua.c does, set a hook so the running Lua code raises "interrupted!" at its next
 * instruction; hooks never fire inside a blocking transfer, so the module is told too and its
 * libcurl progress callback aborts the transfer.
 */
static void main_on_interrupt(int sig) {
  int flags = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(sig, SIG_DFL); /* a second Ctrl-C kills the process */
  interrupt_raise();
  if (main_running_state) lua_sethook(main_running_state, main_stop_hook, flags, 1);
}

/* Runs the function below its `narg` arguments in protected mode with the message handler. */
static int main_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  int status;
  lua_pushcfunction(L, main_msghandler);
  lua_insert(L, base);
  main_running_state = L;
  (void)interrupt_take(); /* a leftover nobody raised for is not this chunk's */
  signal(SIGINT, main_on_interrupt);
  status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  main_running_state = NULL;
  lua_remove(L, base);
  return status;
}

static void main_print_version(void) {
  printf("telnyx-lua %s (%s)\n", TELNYX_VERSION, LUA_RELEASE);
  fflush(stdout);
}

/* --version: -v stays as lua5.4's; this one also names the libcurl in use. */
static void main_print_long_version(void) {
  printf("telnyx-lua %s (%s, libcurl %s)\n", TELNYX_VERSION, LUA_RELEASE,
         curl_version_info(CURLVERSION_NOW)->version);
  fflush(stdout);
}

static void main_print_help(void) {
  printf("usage: " PROGNAME " [options] [script [args]]\n"
         "A Lua 5.4 interpreter with the telnyx module built in, and a REPL for the Telnyx API.\n"
         "\n"
         "Options (as lua5.4's):\n"
         "  -e stat    execute string 'stat'\n"
         "  -i         enter the REPL after executing 'script'\n"
         "  -l mod     require library 'mod' into global 'mod'\n"
         "  -l g=mod   require library 'mod' into global 'g'\n"
         "  -v         show version information\n"
         "  -E         ignore environment variables (LUA_INIT, LUA_PATH, ...)\n"
         "  -W         turn warnings on\n"
         "  --         stop handling options\n"
         "  -          stop handling options and execute stdin\n"
         "  --help     show this help and exit\n"
         "  --version  show the versions of telnyx-lua, Lua and libcurl and exit\n"
         "\n"
         "With no script and stdin a terminal: the REPL (line editing, history in\n"
         "~/.telnyx_lua_history, Tab completion, help(x), results pretty-printed; a global\n"
         "`client` when TELNYX_API_KEY is set). With no script and stdin not a terminal: stdin\n"
         "runs as a script.\n"
         "\n"
         "Environment:\n"
         "  TELNYX_API_KEY         API key of telnyx.new() (never printed or logged)\n"
         "  TELNYX_BASE_URL        API base URL (default https://api.telnyx.com/v2)\n"
         "  TELNYX_LOG             off, error, warn (default), info or debug\n"
         "  TELNYX_CUSTOM_HEADERS  extra headers on every request, \"Name: value\" lines\n"
         "  TELNYX_CA_BUNDLE       PEM file of trusted CAs (else SSL_CERT_FILE, SSL_CERT_DIR)\n"
         "  SSL_CERT_FILE, SSL_CERT_DIR  trusted CAs, as OpenSSL reads them\n"
         "  https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY  the proxy, as curl reads them\n"
         "  no_proxy, NO_PROXY     hosts reached without the proxy\n"
         "  TELNYX_MAX_RESPONSE_BYTES  memory budget for answers (default 268435456)\n"
         "  TELNYX_ALLOC           host's Lua allocator: pool (default) or malloc\n"
         "  LUA_INIT_5_4, LUA_INIT, LUA_PATH, LUA_CPATH  as for lua5.4\n"
         "  NO_COLOR, TERM         REPL without colour if NO_COLOR is set or TERM unset/dumb\n"
         "  COLUMNS                width the REPL fits results and help to\n"
         "  HOME                   where the REPL keeps its history\n"
         "\n"
         "Documentation: README.md, man telnyx-lua, and in Lua telnyx.help(x)\n"
         "(e.g. " PROGNAME " -e 'print(require\"telnyx\".help(\"billing_groups.create\"))').\n");
  fflush(stdout);
}

/*
 * `arg` exactly as lua5.4 builds it: the script at index 0, its arguments at 1..n, and the
 * interpreter and options before the script at negative indices.
 */
static void main_create_arg_table(lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script == argc) script = 0; /* no script: the interpreter's name goes to arg[0] */
  narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int main_dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = main_docall(L, 0, 0);
  return main_report(L, status);
}

static int main_dostring(lua_State *L, const char *s, const char *name) {
  return main_dochunk(L, luaL_loadbufferx(L, s, strlen(s), name, "t"));
}

/* Loads a script or stdin (NULL) in text mode: precompiled chunks can crash the VM. */
static int main_loadfile(lua_State *L, const char *fname) {
  return luaL_loadfilex(L, fname, "t");
}

/* `-l mod` or `-l g=mod`: require mod and store the result in global g (default mod). */
static int main_dolibrary(lua_State *L, char *globname) {
  int status;
  char *modname = strchr(globname, '=');
  if (modname == NULL) {
    modname = globname;
  } else {
    *modname = '\0';
    modname++;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  status = main_docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, globname);
  return main_report(L, status);
}

/* Pushes the script's arguments (arg[1..n]) and returns how many. */
static int main_push_script_args(lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int main_handle_script(lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL; /* stdin */
  status = main_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = main_push_script_args(L);
    status = main_docall(L, n, LUA_MULTRET);
  }
  return main_report(L, status);
}

/*
 * Scans the options; returns the HAS_* bits and sets *first to the index of the script
 * (or of the first non-option argument). Same rules as lua5.4.
 */
static int main_collect_args(char **argv, int *first) {
  int args = 0;
  int i;
  if (argv[0] == NULL) { /* no program name (argc == 0): no options either (lua 5.4.6) */
    *first = -1;
    return 0;
  }
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args; /* not an option: the script */
    switch (argv[i][1]) {
      case '-':
        if (strcmp(argv[i], "--help") == 0) return args | HAS_HELP;
        if (strcmp(argv[i], "--version") == 0) return args | HAS_VERSION;
        if (argv[i][2] != '\0') return HAS_ERROR;
        *first = i + 1;
        return args;
      case '\0':
        return args; /* "-": script is stdin */
      case 'E':
        if (argv[i][2] != '\0') return HAS_ERROR;
        args |= HAS_BIG_E;
        break;
      case 'W':
        if (argv[i][2] != '\0') return HAS_ERROR;
        break;
      case 'i':
        args |= HAS_I; /* -i implies -v */
        /* fall through */
      case 'v':
        if (argv[i][2] != '\0') return HAS_ERROR;
        args |= HAS_V;
        break;
      case 'e':
        args |= HAS_E;
        /* fall through */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return HAS_ERROR;
        }
        break;
      default:
        return HAS_ERROR;
    }
  }
  *first = i;
  return args;
}

/* Runs -e, -l and -W in order. Returns 0 when one of them fails. */
static int main_run_args(lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e':
      case 'l': {
        int status;
        char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        status = (option == 'e') ? main_dostring(L, extra, "=(command line)")
                                 : main_dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W':
        lua_warning(L, "@on", 0);
        break;
      default:
        break;
    }
  }
  return 1;
}

static int main_handle_luainit(lua_State *L) {
  const char *name = "=" INIT_VAR_VERSIONED;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return main_dochunk(L, main_loadfile(L, init + 1));
  return main_dostring(L, init, name);
}

/* Preloads the module so `require "telnyx"` needs no path set-up. */
static void main_preload_telnyx(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_telnyx);
  lua_setfield(L, -2, "telnyx");
  lua_pop(L, 1);
}

/* Everything runs in here, under lua_pcall, so no error can reach the panic function. */
static int main_pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = 0;
  int args = main_collect_args(argv, &script);
  int optlim = (script > 0) ? script : argc;
  luaL_checkversion(L);
  if (args == HAS_ERROR) {
    main_print_usage(argv[script]);
    return 0;
  }
  if (args & (HAS_HELP | HAS_VERSION)) {
    if (args & HAS_HELP)
      main_print_help();
    else
      main_print_long_version();
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & HAS_V) main_print_version();
  if (args & HAS_BIG_E) {
    lua_pushboolean(L, 1); /* signal for libraries to ignore env. vars. */
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  main_preload_telnyx(L);
  main_create_arg_table(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & HAS_BIG_E)) {
    if (main_handle_luainit(L) != LUA_OK) return 0;
  }
  if (!main_run_args(L, argv, optlim)) return 0;
  if (script > 0 && script < argc) {
    if (main_handle_script(L, argv + script) != LUA_OK) return 0;
  }
  if (args & HAS_I) {
    if (!repl_run(L, main_docall)) return 0;
  } else if (script < 1 || script >= argc) {
    if (!(args & (HAS_E | HAS_V))) {
      if (isatty(STDIN_FILENO)) {
        main_print_version();
        if (!repl_run(L, main_docall)) return 0;
      } else if (main_dochunk(L, main_loadfile(L, NULL)) != LUA_OK) {
        return 0;
      }
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- the state: allocator, panic and warnings (what luaL_newstate would set up) ---- */

static int main_panic(lua_State *L) {
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "error object is not a string";
  fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
  fflush(stderr);
  return 0; /* Lua aborts */
}

/* Warnings start off; "@on" and "@off" (whole messages) switch them; a message may come in
   pieces (tocont), printed as one line after "Lua warning: ". */
static void main_warn_off(void *ud, const char *msg, int tocont);
static void main_warn_on(void *ud, const char *msg, int tocont);

static int main_warn_control(lua_State *L, const char *msg, int tocont) {
  if (tocont || msg[0] != '@') return 0;
  if (strcmp(msg + 1, "on") == 0) lua_setwarnf(L, main_warn_on, L);
  else if (strcmp(msg + 1, "off") == 0) lua_setwarnf(L, main_warn_off, L);
  return 1;
}

static void main_warn_off(void *ud, const char *msg, int tocont) { main_warn_control(ud, msg, tocont); }

static void main_warn_piece(void *ud, const char *msg, int tocont) {
  fputs(msg, stderr);
  if (tocont) {
    lua_setwarnf(ud, main_warn_piece, ud);
  } else {
    fputs("\n", stderr);
    fflush(stderr);
    lua_setwarnf(ud, main_warn_on, ud);
  }
}

static void main_warn_on(void *ud, const char *msg, int tocont) {
  if (main_warn_control(ud, msg, tocont)) return;
  fputs("Lua warning: ", stderr);
  main_warn_piece(ud, msg, tocont);
}

/* TELNYX_ALLOC (malloc or pool) overrides the allocator's own choice (see alloc.h). */
static lua_State *main_newstate(struct alloc_pool **pool) {
  lua_State *L;
  if ((*pool = alloc_create()) == NULL) return NULL;
  L = lua_newstate(alloc_function(getenv("TELNYX_ALLOC")), *pool);
  if (L == NULL) return NULL;
  lua_atpanic(L, main_panic);
  lua_setwarnf(L, main_warn_off, L);
  return L;
}

int main(int argc, char **argv) {
  int status, result;
  struct alloc_pool *pool;
  lua_State *L = main_newstate(&pool);
  if (L == NULL) {
    main_message(argv[0], "cannot create state: not enough memory");
    alloc_destroy(pool);
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP); /* no GC while building the state */
  lua_pushcfunction(L, main_pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  result = lua_toboolean(L, -1);
  main_report(L, status);
  lua_close(L);
  alloc_destroy(pool);
  return (result && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
