/* GNU readline, opened on first use: see linedit.h for why. */
#include <dlfcn.h>
#include <string.h>

#include "linedit.h"

#define LINEDIT_STR(x) #x
#define LINEDIT_XSTR(x) LINEDIT_STR(x)
/* The major version of the headers built against is the library's soname. */
#define LINEDIT_SONAME "libreadline.so." LINEDIT_XSTR(RL_VERSION_MAJOR)

#define LINEDIT_SYMBOL(name) {#name, offsetof(struct linedit, name)}

static const struct {
  const char *name;
  size_t offset;
} linedit_symbols[] = {
    LINEDIT_SYMBOL(readline),
    LINEDIT_SYMBOL(add_history),
    LINEDIT_SYMBOL(append_history),
    LINEDIT_SYMBOL(read_history),
    LINEDIT_SYMBOL(history_truncate_file),
    LINEDIT_SYMBOL(stifle_history),
    LINEDIT_SYMBOL(using_history),
    LINEDIT_SYMBOL(rl_callback_handler_install),
    LINEDIT_SYMBOL(rl_callback_handler_remove),
    LINEDIT_SYMBOL(rl_callback_read_char),
    LINEDIT_SYMBOL(rl_callback_sigcleanup),
    LINEDIT_SYMBOL(rl_cleanup_after_signal),
    LINEDIT_SYMBOL(rl_display_match_list),
    LINEDIT_SYMBOL(rl_echo_signal_char),
    LINEDIT_SYMBOL(rl_forced_update_display),
    LINEDIT_SYMBOL(rl_free_line_state),
    LINEDIT_SYMBOL(rl_resize_terminal),
    LINEDIT_SYMBOL(rl_attempted_completion_function),
    LINEDIT_SYMBOL(rl_attempted_completion_over),
    LINEDIT_SYMBOL(rl_basic_word_break_characters),
    LINEDIT_SYMBOL(rl_completer_word_break_characters),
    LINEDIT_SYMBOL(rl_completion_append_character),
    LINEDIT_SYMBOL(rl_completion_display_matches_hook),
    LINEDIT_SYMBOL(rl_instream),
    LINEDIT_SYMBOL(rl_line_buffer),
    LINEDIT_SYMBOL(rl_outstream),
    LINEDIT_SYMBOL(rl_readline_name),
    LINEDIT_SYMBOL(rl_catch_signals),
    LINEDIT_SYMBOL(rl_catch_sigwinch),
};

/* The library is process-wide, and so is the table into it: filled once, never changed after. */
static struct linedit linedit_table;
static int linedit_loaded;

const struct linedit *linedit_open(char *err, size_t errlen) {
  struct linedit table;
  void *lib;
  size_t i;
  if (linedit_loaded) return &linedit_table;
  lib = dlopen(LINEDIT_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    snprintf(err, errlen, "%s", dlerror());
    return NULL;
  }
  for (i = 0; i < sizeof linedit_symbols / sizeof linedit_symbols[0]; i++) {
    void *p = dlsym(lib, linedit_symbols[i].name);
    if (p == NULL) {
      snprintf(err, errlen, "%s has no %s", LINEDIT_SONAME, linedit_symbols[i].name);
      dlclose(lib);
      return NULL;
    }
    /* POSIX gives data and function pointers one representation; ISO C has no cast for it. */
    memcpy((char *)&table + linedit_symbols[i].offset, &p, sizeof p);
  }
  linedit_table = table; /* the library stays open: its functions are in use from now on */
  linedit_loaded = 1;
  return &linedit_table;
}
