#!/bin/sh
# make demo: start the local mock Telnyx API on a free port, run scripts/demo.lua (account
# access) and then scripts/demo-messaging.lua (messaging profiles) against it, stop the mock
# whatever happens. Exits with the first demo's failure status.
host=${1:-build/telnyx-lua}
log=$(mktemp) || exit 1
. scripts/mock.sh
mock=""
trap 'kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null; rm -f "$log"' EXIT INT TERM
if ! start_mock "$host" . "$log"; then
  echo "make demo: the mock server did not start:" >&2
  cat "$log" >&2
  exit 1
fi
echo "mock Telnyx API at $url"
TELNYX_API_KEY=demo-key TELNYX_BASE_URL="$url" "$host" scripts/demo.lua || exit $?
TELNYX_API_KEY=demo-key TELNYX_BASE_URL="$url" "$host" scripts/demo-messaging.lua
