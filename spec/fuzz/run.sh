#!/bin/sh
# `make fuzz`: runs each libFuzzer target built in DIR for SECONDS, from its seed corpus
# spec/fuzz/corpus/<target>/ (new inputs go to DIR/corpus/<target>/, never into the repository).
# A finding (crash, sanitizer report, broken property, timeout, out of memory) stops that
# target; its input is kept as DIR/artifacts/<target>/crash-* and named in the output.
# Closing line: "fuzz: N passed, N failed" (one count per target).
# Usage: run.sh DIR SECONDS TARGET...   (from any directory; targets run at the repository root)
dir=$1; seconds=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
passed=0 failed=0
for target in "$@"; do
  corpus=$dir/corpus/$target artifacts=$dir/artifacts/$target log=$dir/$target.log
  mkdir -p "$corpus" "$artifacts" "spec/fuzz/corpus/$target" || exit 1
  dict=""
  [ -f "spec/fuzz/$target.dict" ] && dict="-dict=spec/fuzz/$target.dict"
  echo "=== fuzz: $target for $seconds s"
  # detect_leaks=0: the Lua state lives across inputs, so memory held at exit is not a leak;
  # make sanitize and make valgrind check leaks.
  FUZZ_WORK_FILE=$dir/$target.input ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$dir/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$artifacts/" $dict \
      "$corpus" "spec/fuzz/corpus/$target" >"$log" 2>&1
  status=$?
  tail -n 25 "$log" | grep -E '^(stat::|Done|#[0-9]+ *DONE)' | tr '\n' ' '
  echo
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: ok   $target"
  else
    failed=$((failed + 1))
    echo "fuzz: FAIL $target (exit $status); the end of $log:"
    tail -n 60 "$log" | sed 's/^/  | /'
    ls "$artifacts"/* 2>/dev/null | sed 's/^/  input kept: /'
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
