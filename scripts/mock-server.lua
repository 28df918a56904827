#!/usr/bin/env lua5.4
--[[
scripts/mock-server.lua: a local, stateful mock of the Telnyx account-access API
(the operations of scripts/build/telnyx-account-access.openapi.json). Every spec, the demo
and the benchmarks of telnyx-lua run against it. It needs lua5.4 (or the host
build/telnyx-lua), luasocket, lua-cjson and lua-argparse; it never loads `telnyx`.

  scripts/mock-server.lua [--port N] [--seed N] [--latency MS] [--verbose] [--spec FILE]

It listens on 127.0.0.1 only and, once ready, prints exactly one line on stdout:

  telnyx mock listening on http://127.0.0.1:PORT/v2

What the mock knows about the API (paths, methods, success status codes, required
body fields, enums, types, response shapes and wrappers, page sizes and limits,
filters, sorts, meta field names, error code types) is read from the OpenAPI file
at start. What the spec cannot say (unique ip_address / cidr_block, generated
fields, the access IP "pending" -> "added" transition, filter field aliases) is in
scripts/mock/rules.lua.

The parts live in scripts/mock/ (one module per concern: util, schema, rules, state, store,
responses, routes, lists, api, sched, http, requests, faults, control, server); the OpenAPI
file is read by scripts/build/openapi.lua, the loader the resource generator uses too.

Control API (no auth; JSON in and out), for tests:
  POST   /__mock/faults    add a fault rule (or an array of rules); answers the stored rule(s):
         {method?, path?, count? (1; -1 = until cleared), skip? (0), status?, headers? {name: value},
          body? (string, or any JSON value which is encoded), content_type?, delay_ms? (0),
          action? "respond" (default) | "hang" | "close" | "close_mid_body" | "reset" |
                  "truncated_chunked" | "bad_json" | "huge_body" | "deep_json" | "invalid_utf8" |
                  "html_502" | "headers_only"}
         `path` is a plain prefix of the request path without the query ("/v2/access_ip_address"
         also matches "/v2/access_ip_address/ID"); a `path` starting with "^" is a Lua pattern.
         `method` matches case-insensitively. Rules are tried in the order they were added; the
         first that matches handles the request (the request is still logged) and its count goes
         down; a rule still skipping lets the request through to the next rules. `headers` from
         the rule replace the mock's own headers of the same name (so "content-length" can lie).
  GET    /__mock/faults    the active rules, each with `id` and `hits`.
  DELETE /__mock/faults    clear all rules.
  GET    /__mock/requests  array of logged API requests, oldest first (the last 20,000):
         {seq, method, path, query, query_params, headers, body, conn, t_start_ms, t_end_ms, status,
          t_arrived_ms, t_due_ms, t_answered_ms, fault?}; `?since=SEQ` returns only entries with a
         larger seq. Times are Unix epoch ms: t_start_ms and t_end_ms whole, when the mock began
         and ended with the request (t_end_ms and status null until then); t_arrived_ms when the
         request had arrived, t_due_ms when the latency made its answer due (null without
         latency), t_answered_ms when the answer had been written (null without one), to 0.1 ms.
  DELETE /__mock/requests  clear the log.
  GET    /__mock/stats     {connections_opened, connections_open, requests, in_flight, peak_in_flight,
                            latency_ms}: connections count those that carried an API request.
  DELETE /__mock/stats     reset the counters and the peak.
  GET|POST /__mock/latency {"ms": N}: every API response leaves N ms after its request arrived.
  POST   /__mock/reset     {"seed": N}? clear records, faults, log and stats, restore the
                           command-line latency, restart the id generator from the seed.
  POST   /__mock/seed      {"resource": "access_ip_address", "count": 100000}: bulk-create valid
                           records; answers {resource, created, total}.
]]

-- The mock's modules (scripts/mock/) and the shared OpenAPI loader (scripts/build/), found
-- beside this script whatever the current directory.
local HERE = debug.getinfo(1, "S").source:match("^@(.+)/[^/]*$") or "."
package.path = HERE .. "/?.lua;" .. package.path

local util = require "mock.util"
local schemas = require "mock.schema"
local routes = require "mock.routes"
local control = require "mock.control"
local http = require "mock.http"
local serve = require("mock.server").serve
local state = require("mock.state").state
local argparse = util.require_system "argparse"
local socket = util.socket

local floor, max = math.floor, math.max

local function parse_args(argv)
  local parser = argparse("mock-server.lua", "Local, stateful mock of the Telnyx account-access API.")
  parser:option("--port", "TCP port on 127.0.0.1 (0 picks a free one).", "0"):convert(tonumber)
  parser:option("--seed", "Seed of the generator of ids and values (reproducible runs)."):convert(tonumber)
  parser:option("--latency", "Send every API response MS milliseconds after its request arrived.", "0"):convert(tonumber)
  parser:option("--spec", "OpenAPI file.", HERE .. "/build/telnyx-account-access.openapi.json")
  parser:flag("-v --verbose", "Log one line per API request on stderr.")
  return parser:parse(argv)
end

local function main(argv)
  local args = parse_args(argv)
  util.verbose = args.verbose
  state.api = schemas.load_api(args.spec)
  state.resources, state.routes = routes.build_api(state.api)
  state.base_latency_ms = max(0, args.latency or 0)
  control.reset_state(args.seed or floor(socket.gettime() * 1000000))

  local server, err = socket.bind("127.0.0.1", args.port or 0, 1024)
  if not server then
    io.stderr:write("mock-server: cannot listen on 127.0.0.1:", tostring(args.port), ": ", tostring(err), "\n")
    os.exit(1)
  end
  server:settimeout(0)
  local _, port = server:getsockname()
  io.stdout:write(string.format("telnyx mock listening on http://127.0.0.1:%d/v2\n", port))
  io.stdout:flush()

  -- lua.c (and the host) turn SIGINT into an "interrupted!" error raised in the main
  -- thread by a hook; it lands between select calls. Close everything and exit 0.
  local ok, failure = pcall(serve, server)
  server:close()
  http.close_all()
  if ok or string.find(tostring(failure), "interrupted", 1, true) then os.exit(0) end
  io.stderr:write("mock-server: ", tostring(failure), "\n")
  os.exit(1)
end

main(arg)
