#!/bin/sh
# Runs every spec with busted inside the host binary (so they exercise the real interpreter),
# prints busted's own output, then one closing line "N passed, N failed[, N skipped]".
# Usage: run-busted.sh HOST BUSTED [busted args...]
host=$1; busted=$2; shift 2
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$host" "$busted" --output=utfTerminal "$@" 2>&1 | tee "$out"
status=$(sed -n 's/.*exit status \([0-9]*\).*/\1/p' "$out" | tail -n 1)
# busted's summary: "N successes / N failures / N errors / N pending : T seconds"
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^[0-9]+ success(es)? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' | tail -n 1)
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
set -- $(echo "$summary" | tr -cs '0-9' ' ')
passed=$1; failed=$(( $2 + $3 )); pending=$4
line="$passed passed, $failed failed"
[ "$pending" -gt 0 ] && line="$line, $pending skipped"
echo "$line"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
