#!/bin/sh
# What a user gets from `make install` and from LuaRocks, checked from outside the tree:
# `make install` into a temporary prefix, the commands run by name from another directory (the
# mock and an export against it too), `man -l` renders the page, `make uninstall` leaves no
# file; `luarocks make` into a temporary tree, then `lua5.4 -l telnyx` from another directory.
# Prints one line per check and closes with "N passed, N failed" (summed by .ci/run).
# Usage: sh spec/support/install_check.sh   (from the repository root, after `make`)
set -u
root=$(pwd)
tmp=$(mktemp -d) || exit 1
mock_pid=""
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
prefix=$tmp/prefix
elsewhere=$tmp/elsewhere
mkdir -p "$elsewhere"
passed=0 failed=0

# check NAME COMMAND...: runs COMMAND (output to $tmp/out), counts and reports it.
check() {
  name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "FAIL - $name"; sed 's/^/    /' "$tmp/out" | head -n 20
  fi
}

# Runs a command by name from another directory, with only the prefix's bin added to PATH.
by_name() { (cd "$elsewhere" && PATH="$prefix/bin:$PATH" "$@"); }

version=$(sed -n 's/^VERSION := *//p' Makefile)
rockspec=scripts/build/telnyx-lua-$version-1.rockspec

check "make install PREFIX=<tmp>" make -s --no-print-directory install PREFIX="$prefix"
check "telnyx-lua --version from another directory" sh -c \
  "cd '$elsewhere' && PATH='$prefix/bin':\$PATH telnyx-lua --version | grep -q '^telnyx-lua $version (Lua 5\.4\.[0-9]*, libcurl '"
check "telnyx-lua --help" by_name telnyx-lua --help
check "telnyx-lua runs a script with the built-in module" \
  by_name telnyx-lua -e 'assert(require("telnyx").help("billing_groups.create"):find("POST"))'
for c in rotate-ip-allowlist export provision-webrtc-user mock-server; do
  check "telnyx-$c --help" by_name "telnyx-$c" --help
done
check "stock lua5.4 loads the installed telnyx.so" sh -c \
  "cd '$elsewhere' && LUA_CPATH='$prefix/lib/lua/5.4/?.so' lua5.4 -l telnyx -e 'assert(telnyx.VERSION == \"$version\")'"

# The installed mock finds its modules and OpenAPI file from its installed location, and the
# installed export talks to it.
(cd "$elsewhere" && exec "$prefix/bin/telnyx-mock-server" --port 0) >"$tmp/mock.log" 2>&1 &
mock_pid=$!
url=""
for _ in $(seq 1 100); do
  url=$(sed -n 's/^telnyx mock listening on \(http[^ ]*\).*/\1/p' "$tmp/mock.log")
  [ -n "$url" ] && break
  kill -0 "$mock_pid" 2>/dev/null || break
  sleep 0.1
done
check "telnyx-mock-server starts from its installed location" test -n "$url"
check "telnyx-export lists from the installed mock" \
  by_name env TELNYX_API_KEY=KEYinstallcheck TELNYX_BASE_URL="$url" telnyx-export billing_groups
kill "$mock_pid" 2>/dev/null
wait "$mock_pid" 2>/dev/null
mock_pid=""

check "man -l renders the page" sh -c \
  "MANWIDTH=80 man -l '$prefix/share/man/man1/telnyx-lua.1' | grep -q TELNYX_API_KEY"
check "man telnyx-lua finds it under the prefix" sh -c \
  "MANPATH='$prefix/share/man' MANWIDTH=80 man telnyx-lua | grep -q 'telnyx-export'"
check "make uninstall" make -s --no-print-directory uninstall PREFIX="$prefix"
check "make uninstall leaves no file" sh -c "test -z \"\$(find '$prefix' ! -type d)\""

check "the rockspec's version is the Makefile's" test -f "$rockspec"
check "luarocks make --tree <tmp>" \
  luarocks --lua-version 5.4 make --tree "$tmp/tree" "$rockspec"
check "lua5.4 -l telnyx from another directory, with luarocks path" sh -c \
  "cd '$elsewhere' && eval \"\$(luarocks --lua-version 5.4 path --tree '$tmp/tree')\" && \
   lua5.4 -l telnyx -e 'assert(require\"telnyx\".VERSION == \"$version\")'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
