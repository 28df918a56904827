# Sourced by shell scripts that need the local mock API (scripts/demo.sh,
# spec/support/valgrind.sh). start_mock HOST ROOT LOG starts ROOT/scripts/mock-server.lua under
# HOST on a free port, writing its output to LOG, and waits for its listening line. On success it sets
# `mock` (the pid; the caller stops it) and `url`, and returns 0; otherwise returns 1 with the
# mock's output left in LOG.
start_mock() {
  "$1" "$2/scripts/mock-server.lua" --port 0 >"$3" 2>&1 &
  mock=$!
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^telnyx mock listening on \(http[^ ]*\).*/\1/p' "$3")
    [ -n "$url" ] && return 0
    kill -0 "$mock" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
