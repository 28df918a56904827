#!/usr/bin/env lua5.4
--[[
scripts/mock-server.lua: a local, stateful mock of the Telnyx API: every operation of the
whole spec (scripts/build/telnyx-openapi-spec3.json) but the WebSocket one, with the
account-access operations (scripts/build/telnyx-account-access.openapi.json) served by their
own, richer handlers. Every spec, the demo and the benchmarks of telnyx-lua run against it.
It needs lua5.4 (or the host build/telnyx-lua), luasocket, lua-cjson and lua-argparse; it
never loads `telnyx`.

  scripts/mock-server.lua [--port N] [--seed N] [--latency MS] [--verbose] [--spec FILE]
                          [--whole-spec FILE] [--sdk-methods FILE] [--subset-only]

It listens on 127.0.0.1 only and, once ready, prints exactly one line on stdout:

  telnyx mock listening on http://127.0.0.1:PORT/v2

Account-access operations (--spec, the subset): what the mock knows (paths, methods, success
status codes, required body fields, enums, types, response shapes and wrappers, page sizes and
limits, filters, sorts, meta field names, error code types) is read from the subset at start.
What the spec cannot say (unique ip_address / cidr_block, generated fields, the access IP
"pending" -> "added" transition, filter field aliases) is in scripts/mock/rules.lua. Unknown
query parameters are ignored there, as they always were.

Every other operation (--whole-spec): routed by its template (one to three parameters, and
segments such as "{sid}.json"), under /v2, or at the root for the two /.well-known/ paths
whose `servers` is the host root. Its schemas are resolved on its first request only.
  - Requests are checked: method and path (404, 405 with Allow), credentials (unless its
    `security` allows none), required headers (Idempotency-Key), query parameters (unknown
    ones, required ones, types, enums; deepObject "filter[x]" keys), the Content-Type
    against the declared media types (415), and the body: JSON against its schema (unknown
    top-level fields where additionalProperties is false, required fields, types, enums),
    form-encoded and multipart/form-data fields and file parts, octet-stream as it is. A
    problem is a 422 (400 for a body that does not parse, 415 for the media type) whose
    errors[0] names it in source.parameter or source.pointer and in detail.
  - Collections: GET /x (a list), POST /x (create) and GET/PATCH/PUT/DELETE /x/{id} share a
    store named by the collection's template ("/messaging_profiles"). Records are made from
    the record schema (examples, else values made up per type, format and enum), with the
    create body's fields merged in where the schema has them. An id never seen is taken as a
    record that existed before (made up on first use); a deleted one answers 404.
  - Lists page by their pagination kind, from the SDK method list (--sdk-methods; the 12
    kinds of scripts/build/SOURCES.md): items in data / records / log_messages / queues / the
    body, page numbers (page[number], page_number, page, Page; a missing one is page 1) or
    opaque cursors (cursor, page_cursor, page[after]) and the meta each kind reads. The
    SDK's paginated lists the spec lacks (/email_threads ...) are served as lists too.
  - Any other answer: the declared success status with the media type's example, else one
    made from the schema; PDF, CSV, audio, images, octet-stream and text as bytes of that
    Content-Type; 204 and answers without content empty.

The parts live in scripts/mock/ (one module per concern: util, schema, rules, state, store,
responses, routes, lists, api, sched, http, requests, faults, control, server for the subset
and the server; catalog, operation, validate, forms, synth, pagination, generic for the whole
spec); OpenAPI files are read by scripts/build/openapi.lua, the loader the resource generator
uses too.

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
         {seq, method, path, query, query_params, headers, body, content_type, form?, parts?,
          form_error?, conn, t_start_ms, t_end_ms, status, t_arrived_ms, t_due_ms, t_answered_ms,
          fault?}; content_type is the request's header (null without one); form the fields of a
         form-encoded or multipart body; parts, for multipart, [{name, filename, content_type,
         size}] (no data); form_error why a multipart body did not parse. `?since=SEQ` returns only entries with a
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
                           records; answers {resource, created, total}. resource: an
                           account-access name ("access_ip_address", also "/access_ip_address")
                           or the template of any list of the whole spec ("/messaging_profiles",
                           "/storage/kvs/{id}/keys": one store per template, whatever the id).
]]

-- The mock's modules (scripts/mock/) and the shared OpenAPI loader (scripts/build/), found
-- beside this script whatever the current directory.
local HERE = debug.getinfo(1, "S").source:match("^@(.+)/[^/]*$") or "."
package.path = HERE .. "/?.lua;" .. package.path

local util = require "mock.util"
local schemas = require "mock.schema"
local routes = require "mock.routes"
local catalog = require "mock.catalog"
local control = require "mock.control"
local http = require "mock.http"
local serve = require("mock.server").serve
local state = require("mock.state").state
local argparse = util.require_system "argparse"
local socket = util.socket

local floor, max = math.floor, math.max

local function parse_args(argv)
  local parser = argparse("mock-server.lua", "Local, stateful mock of the Telnyx API.")
  parser:option("--port", "TCP port on 127.0.0.1 (0 picks a free one).", "0"):convert(tonumber)
  parser:option("--seed", "Seed of the generator of ids and values (reproducible runs)."):convert(tonumber)
  parser:option("--latency", "Send every API response MS milliseconds after its request arrived.", "0"):convert(tonumber)
  parser:option("--spec", "OpenAPI file of the account-access operations.",
    HERE .. "/build/telnyx-account-access.openapi.json")
  parser:option("--whole-spec", "OpenAPI file of the whole API.", HERE .. "/build/telnyx-openapi-spec3.json")
  parser:option("--sdk-methods", "The official SDK's methods (pagination kinds).",
    HERE .. "/build/official-sdk-methods.tsv")
  parser:flag("--subset-only", "Serve the account-access operations only.")
  parser:flag("-v --verbose", "Log one line per API request on stderr.")
  return parser:parse(argv)
end

local function main(argv)
  local args = parse_args(argv)
  util.verbose = args.verbose
  -- No collection while the documents are read: each step would walk the whole decoded
  -- spec, which is all live anyway.
  collectgarbage("stop")
  state.api = schemas.load_api(args.spec)
  state.resources, state.routes = routes.build_api(state.api)
  if not args.subset_only then state.catalog = catalog.load(args.whole_spec, args.sdk_methods) end
  collectgarbage("restart")
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
