/*
 * GNU readline, opened with dlopen when the REPL starts instead of linked into the binary. Most
 * runs are scripts that never read a line, and loading libreadline and libtinfo at every start
 * was measured to cost them (a do-nothing program linked with libcurl and Lua, with and without
 * readline: the figures are in scripts/bench/README.md, "Startup").
 */
#ifndef TELNYX_LINEDIT_H
#define TELNYX_LINEDIT_H

#include <stddef.h>
#include <stdio.h>

#include <readline/history.h>
#include <readline/readline.h>

/*
 * The parts of readline the REPL uses, each field named as the library's symbol: functions,
 * and variables by their address (`*lib->rl_outstream`). The types come from readline's own
 * headers, so a call through the table is checked as a direct call would be.
 */
struct linedit {
  __typeof__(readline) *readline;
  __typeof__(add_history) *add_history;
  __typeof__(append_history) *append_history;
  __typeof__(read_history) *read_history;
  __typeof__(history_truncate_file) *history_truncate_file;
  __typeof__(stifle_history) *stifle_history;
  __typeof__(using_history) *using_history;
  __typeof__(rl_callback_handler_install) *rl_callback_handler_install;
  __typeof__(rl_callback_handler_remove) *rl_callback_handler_remove;
  __typeof__(rl_callback_read_char) *rl_callback_read_char;
  __typeof__(rl_callback_sigcleanup) *rl_callback_sigcleanup;
  __typeof__(rl_cleanup_after_signal) *rl_cleanup_after_signal;
  __typeof__(rl_display_match_list) *rl_display_match_list;
  __typeof__(rl_echo_signal_char) *rl_echo_signal_char;
  __typeof__(rl_forced_update_display) *rl_forced_update_display;
  __typeof__(rl_free_line_state) *rl_free_line_state;
  __typeof__(rl_resize_terminal) *rl_resize_terminal;
  __typeof__(rl_attempted_completion_function) *rl_attempted_completion_function;
  __typeof__(rl_attempted_completion_over) *rl_attempted_completion_over;
  __typeof__(rl_basic_word_break_characters) *rl_basic_word_break_characters;
  __typeof__(rl_completer_word_break_characters) *rl_completer_word_break_characters;
  __typeof__(rl_completion_append_character) *rl_completion_append_character;
  __typeof__(rl_completion_display_matches_hook) *rl_completion_display_matches_hook;
  __typeof__(rl_instream) *rl_instream;
  __typeof__(rl_line_buffer) *rl_line_buffer;
  __typeof__(rl_outstream) *rl_outstream;
  __typeof__(rl_readline_name) *rl_readline_name;
  __typeof__(rl_catch_signals) *rl_catch_signals;
  __typeof__(rl_catch_sigwinch) *rl_catch_sigwinch;
};

/*
 * Opens readline (the first call; later calls return the same table). NULL when it cannot be
 * loaded, with the reason in err.
 */
const struct linedit *linedit_open(char *err, size_t errlen);

#endif
