#!/bin/sh
# `make valgrind`: each given spec file (busted inside the host) and scripts against the mock,
# under valgrind memcheck with the collector as aggressive as it goes: incremental with pause 0
# (a new cycle starts the moment one ends) and stepmul 400 (a cycle every quarter heap of
# allocation), so C code that keeps a pointer into a Lua value it no longer anchors reads freed
# memory while valgrind watches. The processes the specs start, and the mock, run natively.
# A run passes when its own checks pass (exit 0) and valgrind reports no error: no invalid
# access, no use of uninitialised memory, no definite or indirect leak.
# Runs go VALGRIND_JOBS at a time (default: the number of cores).
# Closing line: "valgrind: N passed, N failed" (one count per run).
# Usage: valgrind.sh HOST BUSTED SPEC...
host=$1; busted=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
case $host in /*) ;; *) host=$root/$host ;; esac
cd "$root" || exit 1
jobs=${VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 1)}
work=$(mktemp -d) || exit 1
mock=""
cleanup() {
  if [ -n "$mock" ]; then kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

gc='collectgarbage("incremental"); collectgarbage("setpause", 0); collectgarbage("setstepmul", 400)'

# run N NAME COMMAND...: the host running COMMAND under valgrind; writes $work/result.N.
run() {
  id=$1 name=$2; shift 2
  log=$work/vg.$id.log out=$work/out.$id
  start=$(date +%s)
  valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --show-leak-kinds=definite,indirect --error-exitcode=1 --num-callers=40 \
    --suppressions="$root/spec/support/valgrind.supp" --log-file="$log" \
    "$host" -e "$gc" "$@" >"$out" 2>&1
  status=$?
  secs=$(( $(date +%s) - start ))
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
  {
    if [ "$status" -eq 0 ] && [ "${errors:-1}" -eq 0 ]; then
      echo "valgrind: ok   $name (${secs} s)"
    else
      echo "valgrind: FAIL $name (exit $status, ${errors:-?} valgrind errors, ${secs} s)"
      sed 's/^/  | /' "$out" | tail -n 60
      grep -v '^==[0-9]*== *$' "$log" | sed 's/^/  | /'
    fi
  } >"$work/result.$id"
}

# The mock for the script runs, started first (natively).
. "$root/scripts/mock.sh"
if ! start_mock "$root/build/telnyx-lua" "$root" "$work/mock.out"; then
  echo "valgrind: the mock server did not start:"
  cat "$work/mock.out"
  echo "valgrind: 0 passed, 1 failed"
  exit 1
fi

# The runs, one line each: NAME<TAB>ARGS (words split on spaces). Tests named "100,000" are
# left out here: they measure volume (100,000 records, nesting 100,000 deep), and under a
# collector that never pauses the Lua 5.4 GC is quadratic on them (a 100,000-deep table chain
# is slow natively and far slower under valgrind; the time measured is in scripts/bench/README.md,
# "Under valgrind"). make test and make sanitize run them.
{
  for spec in "$@"; do
    printf '%s\t%s\n' "$spec" "$busted --output=TAP --filter-out=100,000 $spec"
  done
  printf '%s\t%s\n' scripts/demo.lua "scripts/demo.lua"
  if [ -f scripts/rotate-ip-allowlist.lua ]; then
    printf '10.0.0.1\n# a comment\n\n192.0.2.0/24\n2001:db8::/32\n' >"$work/allowlist.txt"
    printf '%s\t%s\n' "scripts/rotate-ip-allowlist.lua --apply" \
      "scripts/rotate-ip-allowlist.lua --apply --json $work/allowlist.txt"
  fi
} >"$work/runs"

export TELNYX_API_KEY=valgrind-key TELNYX_BASE_URL="$url"
# No TELNYX_ALLOC: under valgrind the host gives every Lua object to malloc by itself.
id=0 pids=""
while IFS='	' read -r name args; do
  id=$((id + 1))
  # shellcheck disable=SC2086 # args are words
  run "$id" "$name" $args </dev/null &
  pids="$pids $!"
  if [ "$(echo $pids | wc -w)" -ge "$jobs" ]; then wait $pids; pids=""; fi
done <"$work/runs"
[ -n "$pids" ] && wait $pids

passed=0 failed=0 i=1
while [ "$i" -le "$id" ]; do
  cat "$work/result.$i"
  if grep -q '^valgrind: ok' "$work/result.$i"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  i=$((i + 1))
done
echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
