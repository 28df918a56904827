#!/bin/sh
# make demo: start the local mock Telnyx API on a free port, run scripts/demo.lua against it,
# stop the mock whatever happens.
host=${1:-build/telnyx-lua}
log=$(mktemp) || exit 1
"$host" scripts/mock-server.lua --port 0 >"$log" 2>&1 &
mock=$!
trap 'kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null; rm -f "$log"' EXIT INT TERM
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^telnyx mock listening on \(http[^ ]*\).*/\1/p' "$log")
  [ -n "$url" ] && break
  kill -0 "$mock" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "make demo: the mock server did not start:" >&2
  cat "$log" >&2
  exit 1
fi
echo "mock Telnyx API at $url"
TELNYX_API_KEY=demo-key TELNYX_BASE_URL="$url" "$host" scripts/demo.lua
