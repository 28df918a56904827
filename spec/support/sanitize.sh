#!/bin/sh
# `make sanitize`: the whole spec suite with the ASan+UBSan host as busted's interpreter and as
# every process the specs start (spec/support/cli.lua and mock.lua honour TELNYX_LUA).
# Reports of every process (the specs' children too, whatever status they exit with) are
# written under DIR/reports; any report fails the run. Closing line:
# "sanitize: N passed, N failed" (each report counts as a failure).
# Usage: sanitize.sh DIR BUSTED [busted args...]   (DIR holds the sanitized telnyx-lua)
dir=$1; busted=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
case $dir in /*) ;; *) dir=$root/$dir ;; esac
cd "$root" || exit 1
reports=$dir/reports
rm -rf "$reports"
mkdir -p "$reports" || exit 1

TELNYX_LUA=$dir/telnyx-lua
# detect_leaks: LeakSanitizer at every exit; abort_on_error: a report kills the process (134).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$reports/asan
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan
LSAN_OPTIONS=suppressions=$root/spec/support/lsan.supp:print_suppressions=0
# No TELNYX_ALLOC: a sanitizer build gives every Lua object to malloc by itself (src/alloc.c).
export TELNYX_LUA ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

out=$(mktemp) || exit 1
trap 'rm -f "$out" "$out.status"' EXIT
{ sh "$root/spec/support/run-busted.sh" "$TELNYX_LUA" "$busted" "$@"; echo $? >"$out.status"; } | tee "$out"
status=$(cat "$out.status")
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
set -- $(echo "${summary:-0 passed, 1 failed}" | tr -cs '0-9' ' ')
passed=$1 failed=$2

nreports=0
for f in "$reports"/*; do
  [ -f "$f" ] || continue
  nreports=$((nreports + 1))
  echo "=== sanitizer report $(basename "$f"):"
  cat "$f"
done
if [ "$nreports" -gt 0 ]; then
  echo "sanitize: $nreports sanitizer report(s) above (kept in $reports)"
  failed=$((failed + nreports))
fi
echo "sanitize: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$status" -eq 0 ]
