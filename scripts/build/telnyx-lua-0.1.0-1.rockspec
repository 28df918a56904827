-- LuaRocks builds and installs the telnyx module (telnyx.so) from a checkout, with the
-- Makefile: from the repository root,
--   luarocks --lua-version 5.4 make [--tree DIR] scripts/build/telnyx-lua-0.1.0-1.rockspec
-- then `eval "$(luarocks --lua-version 5.4 path [--tree DIR])"` and `lua5.4 -l telnyx`.
-- The version must stay the Makefile's VERSION (spec/support/install_check.sh checks it).
rockspec_format = "3.0"
package = "telnyx-lua"
version = "0.1.0-1"
source = {
  url = "git+file://.",
}
description = {
  summary = "A client for the Telnyx API: the telnyx module (C, libcurl, Lua 5.4)",
  detailed = [[
The telnyx module of telnyx-lua: every resource and method of the Telnyx API from its OpenAPI
description, checked calls, pagination, retries, concurrency for bulk work (telnyx.map), and
telnyx.help(x). Needs libcurl (Debian: libcurl4-openssl-dev) to build.]],
  license = "MIT",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
-- libcurl is not declared in external_dependencies: Debian keeps curl/curl.h in a multiarch
-- directory LuaRocks 3.8 does not search; the Makefile's compile names it if it is missing.
build = {
  type = "make",
  build_target = "build/telnyx.so",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA_INC = "$(LUA_INCDIR)",
    LUA = "$(LUA)",
  },
  install_target = "install-module",
  install_variables = {
    LIBDIR = "$(LIBDIR)",
  },
}
