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
RESOURCE_RULES and the small tables next to it.

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

---------------------------------------------------------------------------
-- Libraries. A host built from upstream Lua sources searches only /usr/local;
-- the Debian packages live in the distribution paths, so fall back to those.
---------------------------------------------------------------------------
local system_paths_added = false
local function require_system(name)
  local ok, mod = pcall(require, name)
  if ok then return mod end
  if not system_paths_added then
    system_paths_added = true
    package.path = package.path .. ";/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua"
    package.cpath = package.cpath .. ";/usr/lib/x86_64-linux-gnu/lua/5.4/?.so"
      .. ";/usr/lib/aarch64-linux-gnu/lua/5.4/?.so;/usr/lib/lua/5.4/?.so"
  end
  return require(name)
end

local socket = require_system "socket"
local cjson = require_system "cjson"
local argparse = require_system "argparse"

local concat, sort, remove = table.concat, table.sort, table.remove
local format, find, sub, gsub, lower, upper, rep, char, byte, match, gmatch =
  string.format, string.find, string.sub, string.gsub, string.lower, string.upper,
  string.rep, string.char, string.byte, string.match, string.gmatch
local floor, min, max, tointeger = math.floor, math.min, math.max, math.tointeger
local NULL = cjson.null
local traceback = debug.traceback

---------------------------------------------------------------------------
-- Settings
---------------------------------------------------------------------------
local MAX_WAIT = 0.05          -- longest socket.select wait, so a SIGINT hook lands promptly
local READ_CHUNK = 65536
local MAX_HEAD = 64 * 1024
local MAX_BODY = 64 * 1024 * 1024
local MAX_CONNS = 900          -- select() cannot watch descriptors at or past FD_SETSIZE (1024)
local MAX_LOG = 20000
local MAX_SEED = 1000000
local PAGE_SIZE_LIMIT = 250    -- the API's cap where a page schema states none
local JSON_TYPE = "application/json"
local DOCS_URL = "https://developers.telnyx.com/docs/overview/errors/"

local verbose = false
local function log(fmt, ...)
  if verbose then io.stderr:write(format(fmt, ...), "\n") end
end
local function log_error(msg)
  io.stderr:write("mock-server: ", tostring(msg), "\n")
end

---------------------------------------------------------------------------
-- Time
---------------------------------------------------------------------------
local function now_ms() return socket.gettime() * 1000 end

local iso_second, iso_prefix = nil, nil   -- os.date once per second, not per record
local function iso8601(ms)
  ms = floor(ms)
  local second = ms // 1000
  if second ~= iso_second then
    iso_second, iso_prefix = second, os.date("!%Y-%m-%dT%H:%M:%S", second)
  end
  return format("%s.%03dZ", iso_prefix, ms % 1000)
end

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm);
-- os.time would apply the local time zone.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- ISO 8601 date or date-time (as the filters take them) -> epoch ms, or nil.
local function parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = match(s, "^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, se, ms, zone = 0, 0, 0, 0, ""
  if rest ~= "" then
    local hh, mm, tail = match(rest, "^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, after = match(tail, "^:(%d%d)(.*)$")
    if ss then
      se, tail = tonumber(ss), after
      local frac, after2 = match(tail, "^%.(%d+)(.*)$")
      if frac then ms, tail = tonumber(sub(frac .. "000", 1, 3)), after2 end
    end
    zone = tail
  end
  local offset = 0
  if zone ~= "" and zone ~= "Z" and zone ~= "z" then
    local sign, zh, zm = match(zone, "^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(zh) * 60 + tonumber(zm)) * (sign == "+" and 1 or -1)
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset * 60) * 1000 + ms
end

---------------------------------------------------------------------------
-- Seeded PRNG (splitmix64). math.random has one global state; ids and request
-- ids get separate generators so that logging or control calls never shift ids.
---------------------------------------------------------------------------
local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function new_rng(seed)
  local state = tointeger(seed) or floor(seed)
  local rng = {}
  local function u64()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  rng.u64 = u64
  function rng.below(n) return (u64() >> 1) % n end
  function rng.uuid()
    local a, b = u64(), u64()
    return format("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
      ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffff)
  end
  -- Telnyx int64 ids are 19-digit decimal strings ("1293384261075731499").
  function rng.int64_id() return format("%d", (u64() >> 3) + 1000000000000000000) end
  function rng.chars(n, alphabet)
    local out, len = {}, #alphabet
    for i = 1, n do
      local k = (u64() >> 1) % len + 1
      out[i] = sub(alphabet, k, k)
    end
    return concat(out)
  end
  function rng.hex(n) return rng.chars(n, "0123456789abcdef") end
  return rng
end

local function base64url(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a << 16 | (b or 0) << 8 | (c or 0)
    local k = #out
    out[k + 1] = sub(B64URL, (v >> 18) + 1, (v >> 18) + 1)
    out[k + 2] = sub(B64URL, (v >> 12 & 63) + 1, (v >> 12 & 63) + 1)
    if b then out[k + 3] = sub(B64URL, (v >> 6 & 63) + 1, (v >> 6 & 63) + 1) end
    if c then out[k + 4] = sub(B64URL, (v & 63) + 1, (v & 63) + 1) end
  end
  return concat(out)
end

---------------------------------------------------------------------------
-- JSON. cjson 2.1.0 encodes an empty table as {}; wherever the schema says
-- "array" an empty one is stored as EMPTY_ARRAY and rewritten to [] after encoding.
---------------------------------------------------------------------------
local EMPTY_ARRAY = "\1EMPTY_ARRAY\1"
local EMPTY_ARRAY_JSON = '"\\u0001EMPTY_ARRAY\\u0001"'   -- how cjson writes it; no magic chars

local function json_encode(value)
  local text = cjson.encode(value)
  if find(text, EMPTY_ARRAY_JSON, 1, true) then text = gsub(text, EMPTY_ARRAY_JSON, "[]") end
  -- cjson writes every "/" as "\/"; the API does not. Each "\/" is such an escape
  -- (cjson never writes a bare "/"), so undoing them all is safe.
  if find(text, "\\/", 1, true) then text = gsub(text, "\\/", "/") end
  return text
end

local function json_decode(text)
  local ok, value = pcall(cjson.decode, text)
  if ok then return value end
  return nil, tostring(value)
end

-- cjson gives [] and {} alike as an empty table; both count as an array here.
local function is_array(v)
  return type(v) == "table" and (rawlen(v) > 0 or next(v) == nil)
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end

-- A number as the API would print it in a query string: 10 rather than 10.0.
local function scalar_text(v)
  if type(v) == "number" and v % 1 == 0 then return format("%d", v) end
  return tostring(v)
end

---------------------------------------------------------------------------
-- URLs
---------------------------------------------------------------------------
local function hex_char(h) return char(tonumber(h, 16)) end

local function percent_decode(s) return (gsub(s, "%%(%x%x)", hex_char)) end

local function query_decode(s) return percent_decode((gsub(s, "%+", " "))) end

-- "filter%5Bip_address%5D=1.2.3.4&page[size]=5" -> {["filter[ip_address]"]="1.2.3.4", ...}
-- A repeated key keeps its last value.
local function parse_query(query)
  local params = {}
  for pair in gmatch(query, "[^&]+") do
    local k, v = match(pair, "^([^=]*)=?(.*)$")
    params[query_decode(k)] = query_decode(v)
  end
  return params
end

---------------------------------------------------------------------------
-- OpenAPI: loading and $ref / allOf resolution
---------------------------------------------------------------------------
local function load_openapi(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot read the OpenAPI file: " .. tostring(err), 0) end
  local doc, derr = json_decode(f:read("a"))
  f:close()
  if type(doc) ~= "table" or type(doc.paths) ~= "table" then
    error("not an OpenAPI document: " .. path .. (derr and (" (" .. derr .. ")") or ""), 0)
  end

  local cache = setmetatable({}, {__mode = "k"})
  local deref

  local function pointer(ref)
    local rest = match(ref, "^#/(.*)$")
    if not rest then error("unsupported $ref " .. ref, 0) end
    local node = doc
    for part in gmatch(rest, "[^/]+") do
      part = gsub(gsub(part, "~1", "/"), "~0", "~")
      node = type(node) == "table" and node[part] or nil
      if node == nil then error("dangling $ref " .. ref, 0) end
    end
    return node
  end

  local function merge_all_of(node)
    local merged = {}
    for k, v in pairs(node) do
      if k ~= "allOf" and k ~= "properties" and k ~= "required" then merged[k] = v end
    end
    local props, required = {}, {}
    local parts = {}
    for _, part in ipairs(node.allOf) do parts[#parts + 1] = deref(part) end
    parts[#parts + 1] = node
    for _, part in ipairs(parts) do
      merged.type = merged.type or part.type
      for name, p in pairs(part.properties or {}) do props[name] = p end
      for _, r in ipairs(part.required or {}) do required[#required + 1] = r end
    end
    merged.properties, merged.required = props, required
    return merged
  end

  function deref(node)
    if type(node) ~= "table" then return node end
    local hit = cache[node]
    if hit then return hit end
    local out, hops = node, 0
    while out["$ref"] do
      out, hops = pointer(out["$ref"]), hops + 1
      if hops > 64 then error("$ref loop at " .. tostring(node["$ref"]), 0) end
    end
    if out.allOf then out = merge_all_of(out) end
    cache[node] = out
    return out
  end

  return {doc = doc, deref = deref}
end

-- Sets of JSON types a schema allows (OpenAPI 3.1 type arrays, 3.0 nullable).
local type_sets = setmetatable({}, {__mode = "k"})
local function type_set(schema)
  local set = type_sets[schema]
  if set then return set end
  set = {}
  local t = schema.type
  if type(t) == "string" then set[t] = true
  elseif type(t) == "table" then for _, x in ipairs(t) do set[x] = true end end
  if schema.nullable then set.null = true end
  set.any = t == nil
  type_sets[schema] = set
  return set
end

local function enum_has(enum, v)
  for _, x in ipairs(enum) do if x == v then return true end end
  return false
end

local function json_type_of(v)
  if v == NULL then return "null" end
  local t = type(v)
  if t == "table" then return is_array(v) and "array" or "object" end
  if t == "number" then return v % 1 == 0 and "integer" or "number" end
  return t
end

local function type_matches(v, set)
  if set.any then return true end
  local jt = json_type_of(v)
  if set[jt] then return true end
  if jt == "integer" and set.number then return true end
  if jt == "array" and next(v) == nil and set.object then return true end
  return false
end

local function describe_type(t)
  if type(t) == "table" then return concat(t, " or ") end
  return tostring(t)
end

local function field_name(pointer)
  local name = match(pointer, "([^/]+)$")
  return name or "body"
end

-- Checks a decoded body against a schema. Returns nil, or {pointer=, detail=}
-- for the first problem. `partial` (PATCH) skips `required`.
local function validate(api, v, schema, pointer, partial)
  schema = api.deref(schema)
  if type(schema) ~= "table" then return nil end
  local set = type_set(schema)
  local where = pointer == "" and "/" or pointer
  if v == NULL then
    if set.null or set.any or (schema.enum and enum_has(schema.enum, NULL)) then return nil end
    return {pointer = where, detail = field_name(pointer) .. " must not be null"}
  end
  if not type_matches(v, set) then
    return {pointer = where, detail = format("%s must be of type %s", field_name(pointer),
      describe_type(schema.type))}
  end
  if schema.enum and not enum_has(schema.enum, v) then
    local names = {}
    for _, x in ipairs(schema.enum) do if x ~= NULL then names[#names + 1] = tostring(x) end end
    return {pointer = where, detail = format("%s must be one of: %s", field_name(pointer),
      concat(names, ", "))}
  end
  if type(v) == "number" then
    if schema.minimum and v < schema.minimum then
      return {pointer = where, detail = format("%s must be at least %s", field_name(pointer),
        scalar_text(schema.minimum))}
    end
    if schema.maximum and v > schema.maximum then
      return {pointer = where, detail = format("%s must be at most %s", field_name(pointer),
        scalar_text(schema.maximum))}
    end
  end
  if type(v) ~= "table" then return nil end
  if rawlen(v) > 0 then
    if schema.items then
      for i, x in ipairs(v) do
        local err = validate(api, x, schema.items, pointer .. "/" .. (i - 1), partial)
        if err then return err end
      end
    end
    return nil
  end
  if not partial then
    for _, name in ipairs(schema.required or {}) do
      if v[name] == nil then
        return {pointer = pointer .. "/" .. name, detail = name .. " is required", missing = true}
      end
    end
  end
  local props = schema.properties
  if props then
    for name, x in pairs(v) do
      if props[name] then
        local err = validate(api, x, props[name], pointer .. "/" .. name, partial)
        if err then return err end
      end
    end
  end
  return nil
end

-- Empty tables the schema calls arrays become EMPTY_ARRAY, so they encode as [].
local function normalize(api, v, schema)
  schema = api.deref(schema)
  if type(v) ~= "table" or type(schema) ~= "table" then return v end
  if next(v) == nil then
    if type_set(schema).array then return EMPTY_ARRAY end
    return v
  end
  if schema.properties then
    for k, x in pairs(v) do
      local ps = schema.properties[k]
      if ps then v[k] = normalize(api, x, ps) end
    end
  elseif schema.items and rawlen(v) > 0 then
    for i = 1, #v do v[i] = normalize(api, v[i], schema.items) end
  end
  return v
end

---------------------------------------------------------------------------
-- What the spec cannot express
---------------------------------------------------------------------------
local valid_ipv4
do
  -- A part of a dotted quad: up to 255, without a leading zero.
  local function octet(p)
    return #p <= 3 and tonumber(p) <= 255 and not (#p > 1 and byte(p) == 48)
  end

  function valid_ipv4(s)
    local a, b, c, d = match(s, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return a ~= nil and octet(a) and octet(b) and octet(c) and octet(d)
  end
end

local function valid_ipv6(s)
  if not match(s, "^[%x:%.]+$") or not find(s, ":", 1, true) or find(s, ":::", 1, true) or #s > 45 then
    return false
  end
  local double = select(2, gsub(s, "::", "::"))
  if double > 1 then return false end
  local groups = 0
  for g in gmatch(s, "[^:]+") do
    if find(g, ".", 1, true) then
      if not valid_ipv4(g) then return false end
      groups = groups + 2
    elseif #g > 4 then return false
    else groups = groups + 1 end
  end
  return double == 1 and groups < 8 or groups == 8
end

local function valid_ip(s)
  return type(s) == "string" and (valid_ipv4(s) or valid_ipv6(s))
end

local function valid_cidr(s)
  if type(s) ~= "string" then return false end
  local ip, bits = match(s, "^([^/]+)/(%d+)$")
  if not ip then return false end
  bits = tonumber(bits)
  if valid_ipv4(ip) then return bits <= 32 end
  return valid_ipv6(ip) and bits <= 128
end

-- Per-resource behaviour beyond the schema:
--   unique   body field the API keeps unique (a second create answers 422)
--   checks   field -> {predicate, what the value must be}
--   requires function(body) -> name of a field the body needs beyond `required`
--   settles  "status" goes from "pending" (at creation) to "added" on the first read
--   generate property -> function(ctx) for fields the server fills in
--   defaults property -> value when the body has none and the spec gives no default
--   finish   function(rec, ctx) deriving fields after create and update
local RESOURCE_RULES = {
  access_ip_address = {
    unique = "ip_address",
    checks = {ip_address = {valid_ip, "a valid IPv4 or IPv6 address"}},
    settles = true,
    generate = {source = function() return "api" end},
  },
  integration_secrets = {
    -- The spec's field descriptions: "Required for bearer type secrets", "Required for basic".
    requires = function(body)
      if body.type == "bearer" and body.token == nil then return "token" end
      if body.type == "basic" then
        if body.username == nil then return "username" end
        if body.password == nil then return "password" end
      end
    end,
  },
  access_ip_ranges = {
    unique = "cidr_block",
    checks = {cidr_block = {valid_cidr, "a CIDR block such as 203.0.113.0/24"}},
    settles = true,
  },
  telephony_credentials = {
    finish = function(rec, ctx)
      local d, x = rec.data, rec.extra
      if x.connection_id ~= nil then d.resource_id = "connection:" .. scalar_text(x.connection_id) end
      if d.sip_username == NULL then d.sip_username = "gencred" .. ctx.rng.chars(22, ALNUM) end
      if d.sip_password == NULL then d.sip_password = ctx.rng.hex(32) end
      local expires = parse_time(d.expires_at)
      d.expired = expires ~= nil and expires <= ctx.now
      x.status = d.expired and "expired" or "active"   -- what filter[status] matches
    end,
  },
  credential_connections = {
    defaults = {active = true},
  },
  authentication_providers = {
    finish = function(rec)
      local d = rec.data
      local s = type(d.settings) == "table" and d.settings or nil
      if s and type(d.short_name) == "string" then
        s.assertion_consumer_service_url = "https://api.telnyx.com/sso/saml/auth/" .. d.short_name
        s.service_provider_entity_id = "https://api.telnyx.com/sso/saml/metadata/" .. d.short_name
        s.service_provider_login_url = "https://api.telnyx.com/sso/" .. d.short_name
      end
      if d.active == true then
        if d.activated_at == NULL then d.activated_at = d.updated_at end
      else
        d.activated_at = NULL
      end
    end,
  },
  addresses = {
    finish = function(rec)
      -- No phone number uses a mock address: filter[used_as_emergency]=false matches all.
      rec.extra.used_as_emergency = false
    end,
  },
}

-- Filter names that do not match a field of the record.
local FILTER_FIELDS = {
  ip_source = "source",
  outbound_voice_profile_id = "outbound.outbound_voice_profile_id",
}
-- Plain filters the spec describes as "containing" rather than equal.
local CONTAINS_BY_DEFAULT = {customer_reference = true}

-- Server-filled top-level properties of every record (a body cannot set them).
local GENERATED = {
  id = function(ctx) return ctx.res.int64_ids and ctx.rng.int64_id() or ctx.rng.uuid() end,
  record_type = function(ctx, ps) return ps.enum and ps.enum[1] or ps.example or ctx.res.name end,
  created_at = function(ctx) return ctx.stamp end,
  updated_at = function(ctx) return ctx.stamp end,
  user_id = function(ctx) return ctx.state.user_id end,
  organization_id = function(ctx) return ctx.state.organization_id end,
}

---------------------------------------------------------------------------
-- Server state (everything POST /__mock/reset clears)
---------------------------------------------------------------------------
local state = {
  api = nil, resources = nil, routes = nil,
  seed = 0, rng = nil, request_rng = nil,
  base_latency_ms = 0, latency_ms = 0,
  last_stamp = 0, seq = 0,
  user_id = nil, organization_id = nil,
  faults = {}, next_fault_id = 1,
  log = {first = 1, last = 0}, next_request_seq = 0,
  stats = nil, next_conn_id = 0,
}

local function new_stats(previous)
  return {
    connections_opened = 0,
    connections_open = previous and previous.connections_open or 0,
    requests = 0,
    in_flight = previous and previous.in_flight or 0,
    peak_in_flight = previous and previous.in_flight or 0,
    epoch = previous and previous.epoch + 1 or 1,
  }
end

-- Creation times are strictly increasing, so "sort by created_at" is insertion order
-- and created_at filters see distinct values even for records made in the same ms.
local function next_stamp(at)
  local t = max(floor(at), state.last_stamp + 1)
  state.last_stamp = t
  return t
end

---------------------------------------------------------------------------
-- Records and stores
---------------------------------------------------------------------------
local function new_store()
  return {items = {}, by_id = {}, unique = {}, holes = 0, seed_counter = 0}
end

local function store_insert(res, rec)
  local st = res.store
  st.items[#st.items + 1] = rec
  st.by_id[rec.id] = rec
  if res.rules.unique then st.unique[rec.data[res.rules.unique]] = rec end
end

-- Deletion only marks; the array is compacted at the next list, so deleting many
-- records is not quadratic.
local function store_delete(res, rec)
  local st = res.store
  rec.deleted = true
  st.by_id[rec.id] = nil
  if res.rules.unique then st.unique[rec.data[res.rules.unique]] = nil end
  st.holes = st.holes + 1
end

local function store_items(res)
  local st = res.store
  if st.holes > 0 then
    local kept = {}
    for _, rec in ipairs(st.items) do
      if not rec.deleted then kept[#kept + 1] = rec end
    end
    st.items, st.holes = kept, 0
  end
  return st.items
end

local function record_context(res, at_ms)
  return {res = res, rng = state.rng, state = state, now = now_ms(), stamp = iso8601(at_ms)}
end

-- Each schema's properties, resolved once, in a fixed order so that generators
-- draw from the PRNG in the same order in every interpreter (pairs order is not
-- stable across runs): {name=, schema=, required=, default= (filled lazily)}.
local plans = setmetatable({}, {__mode = "k"})
local function schema_plan(api, schema)
  local plan = plans[schema]
  if plan then return plan end
  local required = {}
  for _, name in ipairs(schema.required or {}) do required[name] = true end
  plan = {}
  for name, ps in pairs(schema.properties or {}) do
    plan[#plan + 1] = {name = name, schema = api.deref(ps), required = required[name] == true}
  end
  sort(plan, function(a, b) return a.name < b.name end)
  plans[schema] = plan
  return plan
end

local fill_object
local NO_RULES = {}

-- A property the body did not give: the schema default; else, for a required
-- enum, its first value; else a nested object of defaults, [] or false; else null.
-- Worked out once per property, copied at each use.
local function default_value(api, entry)
  local d = entry.default
  if d == nil then
    local ps = entry.schema
    local set = type_set(ps)
    if ps.default ~= nil then d = normalize(api, deep_copy(ps.default), ps)
    elseif set.null then d = NULL
    elseif ps.enum then d = entry.required and ps.enum[1] or NULL
    elseif ps.properties then d = fill_object(api, ps, nil, nil, false)
    elseif set.array then d = EMPTY_ARRAY
    elseif set.boolean then d = false
    else d = NULL end
    entry.default = d
  end
  return deep_copy(d)
end

-- The public object of a record: every property of the schema, taken from the
-- (normalized) body, else generated (top level only), else a default.
function fill_object(api, schema, given, ctx, top)
  local out = {}
  local rules = top and ctx.res.rules or NO_RULES
  local generate, defaults = rules.generate, rules.defaults
  for _, entry in ipairs(schema_plan(api, schema)) do
    local name, ps = entry.name, entry.schema
    local gen = top and (generate and generate[name] or GENERATED[name])
    local v
    if gen then
      v = gen(ctx, ps)
    else
      v = given and given[name]
      if v == nil and defaults then v = deep_copy(defaults[name]) end
      if v == nil then
        v = default_value(api, entry)
      elseif type(v) == "table" and ps.properties and rawlen(v) == 0 then
        v = fill_object(api, ps, v, ctx, false)
      end
    end
    out[name] = v
  end
  return out
end

local function new_record(res, body, at_ms)
  local api = state.api
  local ctx = record_context(res, at_ms)
  normalize(api, body, res.item)
  local data = fill_object(api, res.item, body, ctx, true)
  local extra = {}
  for k, v in pairs(body) do
    if res.item.properties[k] == nil then extra[k] = v end
  end
  state.seq = state.seq + 1
  local rec = {id = data.id, seq = state.seq, created_ms = at_ms, data = data, extra = extra}
  if res.rules.finish then res.rules.finish(rec, ctx) end
  return rec
end

local function merge_into(api, dst, src, schema)
  for k, v in pairs(src) do
    local ps = schema.properties and api.deref(schema.properties[k])
    if ps and ps.properties and type(v) == "table" and rawlen(v) == 0 and type(dst[k]) == "table" then
      merge_into(api, dst[k], v, ps)
    else
      dst[k] = v
    end
  end
end

local function update_record(res, rec, body)
  local api = state.api
  local ctx = record_context(res, now_ms())
  local patch = {}
  for k, v in pairs(body) do
    if GENERATED[k] then               -- ids and timestamps are the server's
    elseif res.item.properties[k] then patch[k] = v
    else rec.extra[k] = v end
  end
  merge_into(api, rec.data, normalize(api, patch, res.item), res.item)
  if res.item.properties.updated_at then rec.data.updated_at = ctx.stamp end
  if res.rules.finish then res.rules.finish(rec, ctx) end
  rec.json = nil
end

-- Access IP entries are "pending" in the create answer and "added" once read.
local function settle(res, rec)
  if res.rules.settles and rec.data.status == "pending" then
    rec.data.status = "added"
    rec.json = nil
  end
end

local function record_json(rec)
  local text = rec.json
  if not text then
    text = json_encode(rec.data)
    rec.json = text
  end
  return text
end

---------------------------------------------------------------------------
-- Responses
---------------------------------------------------------------------------
local ERRORS = {
  [400] = {"10015", "Bad Request", "The request failed because it was not well-formed."},
  [401] = {"10009", "Authentication failed", "Could not understand the provided credentials."},
  [403] = {"10010", "Not authorized", "You are not authorized to access the requested resource."},
  [404] = {"10005", "Resource not found", "The requested resource or URL could not be found."},
  [405] = {"10005", "Method not allowed", "The requested method is not allowed for this URL."},
  [409] = {"10014", "Conflict", "The request conflicts with the current state of the resource."},
  [413] = {"10015", "Payload too large", "The request body is too large."},
  [422] = {"10015", "Invalid parameter", "The request was well-formed but invalid."},
  [429] = {"10011", "Too many requests", "Rate limit exceeded, retry later."},
  [500] = {"10007", "Unexpected error", "An unexpected error occurred."},
  [502] = {"10007", "Bad gateway", "The upstream service failed."},
  [503] = {"10007", "Service unavailable", "The service is temporarily unavailable."},
  [504] = {"10007", "Gateway timeout", "The upstream service timed out."},
}

-- Does this operation's error schema for `status` type `code` as an integer
-- (billing-group_Error does) rather than a string?
local function integer_error_code(op, status)
  if not op then return false end
  local cached = op.int_codes[status]
  if cached ~= nil then return cached end
  local api = state.api
  local result = false
  local r = api.deref(op.raw.responses and (op.raw.responses[tostring(status)] or op.raw.responses.default))
  local c = r and r.content and r.content[JSON_TYPE]
  local s = c and api.deref(c.schema)
  local errs = s and s.properties and api.deref(s.properties.errors)
  local item = errs and api.deref(errs.items)
  local code = item and item.properties and api.deref(item.properties.code)
  if code and code.type == "integer" then result = true end
  op.int_codes[status] = result
  return result
end

local function error_response(op, status, detail, source, title)
  local std = ERRORS[status] or ERRORS[status >= 500 and 500 or 400]
  local code = std[1]
  if integer_error_code(op, status) then code = tointeger(tonumber(code)) end
  local e = {code = code, title = title or std[2], detail = detail or std[3], source = source,
             meta = {url = DOCS_URL .. std[1]}}
  return {status = status, body = json_encode({errors = {e}})}
end

local function json_response(status, value)
  return {status = status, body = type(value) == "string" and value or json_encode(value)}
end

---------------------------------------------------------------------------
-- The API: routes built from the spec
---------------------------------------------------------------------------
local PARAM = {}   -- marks a {param} segment of a path template
local HTTP_METHODS = {get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"}
local ITEM_KINDS = {GET = "retrieve", PATCH = "update", DELETE = "delete"}

local function success_status(raw)
  local best
  for code in pairs(raw.responses or {}) do
    local n = tonumber(code)
    if n and n >= 200 and n < 300 and (not best or n < best) then best = n end
  end
  return best or 200
end

local function success_schema(api, raw, status)
  local r = api.deref(raw.responses and raw.responses[tostring(status)])
  local c = r and r.content and r.content[JSON_TYPE]
  return c and api.deref(c.schema)
end

local function describe_op(api, raw, method, route, res)
  local segs = route.segs
  local kind = "action"
  if #segs == 1 and segs[1] ~= PARAM then
    kind = (method == "GET" and "list") or (method == "POST" and "create") or "action"
  elseif #segs == 2 and segs[2] == PARAM and ITEM_KINDS[method] then
    kind = ITEM_KINDS[method]
  end
  local op = {id = raw.operationId, raw = raw, method = method, route = route, res = res,
              kind = kind, params = {}, int_codes = {}}
  for _, p in ipairs(raw.parameters or {}) do
    p = api.deref(p)
    if p["in"] == "query" then op.params[p.name] = p end
  end
  local rb = api.deref(raw.requestBody)
  if rb then
    local c = rb.content and rb.content[JSON_TYPE]
    op.body_schema = c and api.deref(c.schema)
  end
  op.success = success_status(raw)
  local s = success_schema(api, raw, op.success)
  op.wrapped = s ~= nil and s.properties ~= nil and s.properties.data ~= nil
  op.response_schema = s
  return op
end

local function build_api(api)
  local resources, routes = {}, {}
  for template, item in pairs(api.doc.paths) do
    local segs, literals = {}, 0
    for seg in gmatch(template, "[^/]+") do
      if match(seg, "^{.+}$") then segs[#segs + 1] = PARAM
      else segs[#segs + 1], literals = seg, literals + 1 end
    end
    local route = {template = template, segs = segs, literals = literals, ops = {}}
    routes[#routes + 1] = route
    local name = segs[1]
    local res = resources[name]
    if not res then
      res = {name = name, ops = {}, rules = RESOURCE_RULES[name] or {}, store = new_store()}
      resources[name] = res
    end
    for key, raw in pairs(item) do
      local method = HTTP_METHODS[key]
      if method then
        local op = describe_op(api, raw, method, route, res)
        route.ops[method] = op
        if op.kind ~= "action" then res.ops[op.kind] = op end
      end
    end
  end
  -- Templates with more literal segments win over ones with parameters.
  sort(routes, function(a, b)
    if a.literals ~= b.literals then return a.literals > b.literals end
    return a.template < b.template
  end)
  for name, res in pairs(resources) do
    local list = res.ops.list
    local data = list and list.response_schema and list.response_schema.properties
      and api.deref(list.response_schema.properties.data)
    res.item = data and api.deref(data.items)
    if not (res.item and res.item.properties) then
      error("cannot find the record schema of " .. name .. " (no list operation?)", 0)
    end
    local id = api.deref(res.item.properties.id)
    res.int64_ids = id ~= nil and id["x-format"] == "int64"
    local meta = api.deref(list.response_schema.properties.meta)
    res.meta_fields = {}
    for field in pairs(meta and meta.properties or {}) do res.meta_fields[#res.meta_fields + 1] = field end
    if #res.meta_fields == 0 then
      res.meta_fields = {"page_number", "page_size", "total_pages", "total_results"}
    end
  end
  return resources, routes
end

local function match_route(path)
  local segs = {}
  for seg in gmatch(path, "[^/]+") do segs[#segs + 1] = seg end
  if sub(path, -1) == "/" then return nil end   -- "/billing_groups/" is not a route
  for _, route in ipairs(state.routes) do
    local rs = route.segs
    if #rs == #segs then
      local ok = true
      for i = 1, #rs do
        if rs[i] ~= PARAM and rs[i] ~= segs[i] then
          ok = false
          break
        end
      end
      if ok then   -- only now the parameters: most routes tried are not the one
        local params = {}
        for i = 1, #rs do
          if rs[i] == PARAM then params[#params + 1] = percent_decode(segs[i]) end
        end
        return route, params
      end
    end
  end
  return nil
end

-- Body of a request for `op`: decoded and checked against the spec.
local function decode_body(op, req, partial)
  local raw = req.body or ""
  local body
  if match(raw, "^%s*$") then
    body = {}
  else
    local err
    body, err = json_decode(raw)
    if body == nil then
      return nil, error_response(op, 400, "The request body is not valid JSON: " .. err)
    end
  end
  if op.body_schema then
    local problem = validate(state.api, body, op.body_schema, "", partial)
    if problem then
      return nil, error_response(op, 422, problem.detail, {pointer = problem.pointer},
        problem.missing and "Missing required parameter" or nil)
    end
  end
  if type(body) ~= "table" or (rawlen(body) > 0) then
    return nil, error_response(op, 422, "The request body must be a JSON object.", {pointer = "/"})
  end
  return body
end

local function record_response(op, rec, status)
  status = status or op.success
  if status == 204 then return {status = 204} end
  local text = record_json(rec)
  if op.wrapped then text = '{"data":' .. text .. '}' end
  return json_response(status, text)
end

local function find_record(op, id)
  local rec = op.res.store.by_id[id]
  if rec then return rec end
  return nil, error_response(op, 404, format("No %s found with id %s.", op.res.name, id))
end

---------------------------------------------------------------------------
-- Lists: pagination, filters, sorts
---------------------------------------------------------------------------
local function int_param(q, name, default, lo, hi)
  local raw = q[name]
  if raw == nil or raw == "" then return tointeger(default) end
  local n = tonumber(raw)
  n = n and tointeger(n)
  if not n then return nil, name .. " must be an integer" end
  if n < lo then return nil, format("%s must be at least %d", name, lo) end
  if hi and n > hi then return nil, format("%s must be at most %d", name, hi) end
  return n
end

local function page_params(op, q)
  local api = state.api
  local p = op.params.page
  local props = p and api.deref(p.schema).properties or {}
  local size_s, num_s = api.deref(props.size) or {}, api.deref(props.number) or {}
  local size, err = int_param(q, "page[size]", size_s.default or size_s.example or 20,
    tointeger(size_s.minimum) or 1, tointeger(size_s.maximum) or PAGE_SIZE_LIMIT)
  if not size then return nil, nil, err, "page[size]" end
  local number
  -- The cap only keeps (number - 1) * size far from integer overflow.
  number, err = int_param(q, "page[number]", num_s.default or 1, tointeger(num_s.minimum) or 1, 1000000000)
  if not number then return nil, nil, err, "page[number]" end
  return size, number
end

local function field_getter(path)
  local parts = {}
  for part in gmatch(path, "[^.]+") do parts[#parts + 1] = part end
  return function(rec)
    local v = rec.data[parts[1]]
    if v == nil then v = rec.extra[parts[1]] end
    for i = 2, #parts do
      if type(v) ~= "table" then return nil end
      v = v[parts[i]]
    end
    if v == NULL then return nil end
    return v
  end
end

-- The schema of filter[field] (or filter[field][op]) among a oneOf's alternatives.
local function filter_schema(api, fs, opname)
  local alternatives = fs.oneOf or fs.anyOf or {fs}
  for _, alt in ipairs(alternatives) do
    alt = api.deref(alt)
    local is_object = alt.type == "object" or (alt.type == nil and alt.properties ~= nil)
    if opname and is_object and alt.properties and alt.properties[opname] then
      return api.deref(alt.properties[opname])
    elseif not opname and not is_object then
      return alt
    end
  end
  return nil
end

local COMPARE = {
  eq = function(a, b) return a == b end,
  gt = function(a, b) return a > b end,
  lt = function(a, b) return a < b end,
  gte = function(a, b) return a >= b end,
  lte = function(a, b) return a <= b end,
}

local function make_predicate(field, opname, raw, leaf)
  local path = FILTER_FIELDS[field] or field
  local get = field_getter(path)
  local op = opname or (CONTAINS_BY_DEFAULT[field] and "contains") or "eq"
  if leaf.format == "date-time" then
    local want = parse_time(raw)
    if not want then return nil, format("filter[%s] must be an ISO 8601 date-time", field) end
    local compare = COMPARE[op]
    if not compare then return nil, format("unsupported operator %s for filter[%s]", op, field) end
    return function(rec)
      local have = path == "created_at" and rec.created_ms or parse_time(get(rec))
      return have ~= nil and compare(have, want)
    end
  end
  if op == "contains" then
    local needle = lower(raw)
    return function(rec)
      local v = get(rec)
      return v ~= nil and find(lower(scalar_text(v)), needle, 1, true) ~= nil
    end
  elseif op == "startswith" then
    return function(rec)
      local v = get(rec)
      return v ~= nil and sub(scalar_text(v), 1, #raw) == raw
    end
  elseif op == "endswith" then
    return function(rec)
      local v = get(rec)
      return v ~= nil and (raw == "" or sub(scalar_text(v), -#raw) == raw)
    end
  elseif op == "eq" then
    return function(rec)
      local v = get(rec)
      return v ~= nil and scalar_text(v) == raw
    end
  end
  return nil, format("unsupported operator %s for filter[%s]", op, field)
end

-- Filters the spec lists for this operation; others are ignored, as the API does.
local function filter_predicates(op, q)
  local fp = op.params.filter
  if not fp then return {} end
  local api = state.api
  local fschema = api.deref(fp.schema)
  local props = fschema and fschema.properties or {}
  local preds = {}
  for key, value in pairs(q) do
    local field, rest = match(key, "^filter%[([^%]]+)%](.*)$")
    local fs = field and api.deref(props[field])
    if fs then
      local opname = match(rest, "^%[([^%]]+)%]$")
      if rest ~= "" and not opname then return nil, "malformed filter " .. key, key end
      local leaf = filter_schema(api, fs, opname)
      if not leaf then return nil, "unsupported filter " .. key, key end
      if leaf.enum and not enum_has(leaf.enum, value) then
        return nil, format("%s must be one of: %s", key, concat(leaf.enum, ", ")), key
      end
      local pred, err = make_predicate(field, opname, value, leaf)
      if not pred then return nil, err, key end
      preds[#preds + 1] = pred
    end
  end
  return preds
end

-- {field=, desc=} from ?sort= (checked against the spec's enum, with or without "-"),
-- else the spec's default, else creation order.
local function sort_order(op, q)
  local sp = op.params.sort
  if not sp then return {field = "created_at", desc = false} end
  local s = state.api.deref(sp.schema) or {}
  local value = q.sort
  if value == nil or value == "" then value = s.default or "created_at" end
  local desc = sub(value, 1, 1) == "-"
  local field = desc and sub(value, 2) or value
  if s.enum and not (enum_has(s.enum, field) or enum_has(s.enum, "-" .. field)) then
    local names = {}
    for _, x in ipairs(s.enum) do names[#names + 1] = x end
    return nil, "sort must be one of: " .. concat(names, ", ")
  end
  return {field = field, desc = desc}
end

-- Sort keys: missing < false < true < numbers < strings; ties keep creation order.
local function sort_key(v)
  if v == nil then return 0, 0 end
  local t = type(v)
  if t == "boolean" then return 1, v and 1 or 0 end
  if t == "number" then return 2, v end
  return 3, tostring(v)
end

local function sorted_copy(items, order)
  local get = field_getter(order.field)
  local decorated = {}
  for i, rec in ipairs(items) do
    local rank, key = sort_key(get(rec))
    decorated[i] = {rank, key, rec.seq, rec}
  end
  local desc = order.desc
  sort(decorated, function(a, b)
    if a[1] ~= b[1] then if desc then return a[1] > b[1] end return a[1] < b[1] end
    if a[2] ~= b[2] then if desc then return a[2] > b[2] end return a[2] < b[2] end
    if desc then return a[3] > b[3] end
    return a[3] < b[3]
  end)
  local out = {}
  for i, d in ipairs(decorated) do out[i] = d[4] end
  return out
end

local function h_list(op, req)
  local res, q = op.res, req.query_params
  local size, number, err, param = page_params(op, q)
  if not size then return error_response(op, 422, err, {parameter = param}) end
  local preds
  preds, err, param = filter_predicates(op, q)
  if not preds then return error_response(op, 422, err, {parameter = param}) end
  local order
  order, err = sort_order(op, q)
  if not order then return error_response(op, 422, err, {parameter = "sort"}) end

  local selected = store_items(res)
  if #preds > 0 then
    local kept = {}
    for _, rec in ipairs(selected) do
      local ok = true
      for _, pred in ipairs(preds) do
        if not pred(rec) then ok = false break end
      end
      if ok then kept[#kept + 1] = rec end
    end
    selected = kept
  end
  -- created_at order is insertion order: page straight out of the array.
  local reverse = false
  if order.field == "created_at" then reverse = order.desc
  else selected = sorted_copy(selected, order) end

  local total = #selected
  local parts = {}
  for i = (number - 1) * size + 1, min(total, number * size) do
    local rec = selected[reverse and total - i + 1 or i]
    settle(res, rec)
    parts[#parts + 1] = record_json(rec)
    -- Every 50 records the loop may look at the sockets (each half millisecond at most): a
    -- request that arrived meanwhile is timed from then, not from when this page is done, so
    -- the latency of a burst's requests does not grow by the mock's own busy time.
    if #parts % 50 == 0 and coroutine.isyieldable() then coroutine.yield("poll") end
  end
  local values = {page_number = number, page_size = size, total_results = total,
                  total_pages = (total + size - 1) // size}
  local meta = {}
  for _, field in ipairs(res.meta_fields) do meta[field] = values[field] end
  return json_response(200, '{"data":[' .. concat(parts, ",") .. '],"meta":' .. json_encode(meta) .. "}")
end

---------------------------------------------------------------------------
-- Create, retrieve, update, delete
---------------------------------------------------------------------------
local function h_create(op, req)
  local body, problem = decode_body(op, req, false)
  if not body then return problem end
  local res = op.res
  for field, check in pairs(res.rules.checks or {}) do
    local v = body[field]
    if v ~= nil and not check[1](v) then
      return error_response(op, 422, format("%s must be %s", field, check[2]), {pointer = "/" .. field})
    end
  end
  local needed = res.rules.requires and res.rules.requires(body)
  if needed then
    return error_response(op, 422, needed .. " is required", {pointer = "/" .. needed},
      "Missing required parameter")
  end
  local unique = res.rules.unique
  if unique and body[unique] ~= nil and res.store.unique[body[unique]] then
    return error_response(op, 422, format("%s %s already exists.", unique, scalar_text(body[unique])),
      {pointer = "/" .. unique}, "Already exists")
  end
  local rec = new_record(res, body, next_stamp(now_ms()))
  store_insert(res, rec)
  return record_response(op, rec)
end

local function h_retrieve(op, _, id)
  local rec, problem = find_record(op, id)
  if not rec then return problem end
  settle(op.res, rec)
  return record_response(op, rec)
end

local function h_update(op, req, id)
  local rec, problem = find_record(op, id)
  if not rec then return problem end
  local body
  body, problem = decode_body(op, req, true)
  if not body then return problem end
  update_record(op.res, rec, body)
  settle(op.res, rec)
  return record_response(op, rec)
end

local function h_delete(op, _, id)
  local rec, problem = find_record(op, id)
  if not rec then return problem end
  store_delete(op.res, rec)
  settle(op.res, rec)
  return record_response(op, rec)
end

---------------------------------------------------------------------------
-- Actions (operations that are not plain CRUD), by operationId
---------------------------------------------------------------------------
local ACTIONS = {}

ACTIONS.ValidateAddress = function(op, req)
  local body, problem = decode_body(op, req, false)
  if not body then return problem end
  local suggested = {}
  for k, v in pairs(body) do
    suggested[k] = type(v) == "string" and (k == "country_code" or k == "administrative_area")
      and upper(v) or v
  end
  return json_response(200, {data = {result = "valid", suggested = suggested,
    record_type = "address_validation", errors = EMPTY_ARRAY}})
end

ACTIONS.acceptAddressSuggestions = function(op, req, id)
  local rec, problem = find_record(op, id)
  if not rec then return problem end
  local body
  body, problem = decode_body(op, req, true)
  if not body then return problem end
  local already = rec.extra.suggestions_accepted == true
  rec.extra.suggestions_accepted = true
  return json_response(already and 200 or 202,
    {data = {accepted = true, id = rec.id, record_type = "address_suggestion"}})
end

ACTIONS.CreateTelephonyCredentialToken = function(op, _, id)
  local rec, problem = find_record(op, id)
  if not rec then return problem end
  local rng = state.rng
  local now = floor(now_ms() / 1000)
  local header = base64url('{"alg":"HS256","typ":"JWT"}')
  local payload = base64url(json_encode({
    aud = "telnyx_telephony", iss = "telnyx_telephony", typ = "access",
    sub = rec.id, iat = now, nbf = now - 1, exp = now + 86400, jti = rng.uuid(),
    tel_token = rng.chars(64, B64URL),
  }))
  local signature = rng.chars(43, B64URL)   -- 32 bytes, as an HS256 MAC would be
  return {status = op.success, content_type = "text/plain; charset=utf-8",
          body = header .. "." .. payload .. "." .. signature}
end

ACTIONS.CheckRegistrationStatus = function(op, _, id)
  local rec, problem = find_record(op, id)
  if not rec then return problem end
  return json_response(200, {data = {
    record_type = "registration_status", status = "Not Registered",
    sip_username = rec.data.user_name or NULL, ip_address = NULL, transport = NULL,
    port = NULL, user_agent = NULL, last_registration = NULL,
  }})
end

local HANDLERS = {list = h_list, create = h_create, retrieve = h_retrieve,
                  update = h_update, delete = h_delete}

local function authorized(value)
  local token = value and match(value, "^[Bb][Ee][Aa][Rr][Ee][Rr]%s+(.-)%s*$")
  return token ~= nil and token ~= ""
end

local function route_api(req)
  local path = req.path
  if sub(path, 1, 4) ~= "/v2/" then return error_response(nil, 404) end
  if not authorized(req.headers.authorization) then return error_response(nil, 401) end
  local route, params = match_route(sub(path, 4))
  if not route then return error_response(nil, 404) end
  local op = route.ops[req.method]
  if not op then
    local allowed = {}
    for m in pairs(route.ops) do allowed[#allowed + 1] = m end
    sort(allowed)
    local resp = error_response(nil, 405)
    resp.headers = {Allow = concat(allowed, ", ")}
    return resp
  end
  local handler = HANDLERS[op.kind] or ACTIONS[op.id]
  if not handler then return error_response(op, 500, "The mock has no handler for " .. tostring(op.id)) end
  return handler(op, req, params[1])
end

---------------------------------------------------------------------------
-- Bulk seeding (POST /__mock/seed): valid bodies made from the create schema.
---------------------------------------------------------------------------
local function nth_ipv4(base, n)
  local v = base + n
  return format("%d.%d.%d.%d", v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255)
end

local SEED_VALUES = {
  ip_address = function(n) return nth_ipv4(10 << 24, n) end,                 -- 10.0.0.1 ...
  cidr_block = function(n) return nth_ipv4(10 << 24, n * 256) .. "/24" end,  -- 10.0.1.0/24 ...
}

local function sample_value(api, name, ps, n, res)
  ps = api.deref(ps)
  local gen = SEED_VALUES[name]
  if gen then return gen(n) end
  if ps.enum then
    for _, x in ipairs(ps.enum) do if x ~= NULL then return x end end
  end
  local set = type_set(ps)
  if ps.properties then
    local out = {}
    for _, r in ipairs(ps.required or {}) do out[r] = sample_value(api, r, ps.properties[r], n, res) end
    return out
  end
  if ps.default ~= nil and ps.default ~= NULL then return deep_copy(ps.default) end
  local named = match(name, "name$") or name == "identifier"
  if type(ps.example) == "string" then return named and format("%s-%d", ps.example, n) or ps.example end
  if ps.example ~= nil and ps.example ~= NULL then return deep_copy(ps.example) end
  if set.boolean then return true end
  if set.integer or set.number then return n end
  return format("%s-%d", res.name, n)
end

-- The create-body fields a seeded record gets: the required ones and the names.
local function seed_fields(res)
  if res.seed_fields then return res.seed_fields end
  local schema = res.ops.create and res.ops.create.body_schema
  local fields = {}
  for _, entry in ipairs(schema and schema_plan(state.api, schema) or {}) do
    if entry.required or match(entry.name, "name$") or entry.name == "identifier" then
      fields[#fields + 1] = entry
    end
  end
  res.seed_fields = fields
  return fields
end

local function seed_body(res, n)
  local body = {}
  for _, entry in ipairs(seed_fields(res)) do
    body[entry.name] = sample_value(state.api, entry.name, entry.schema, n, res)
  end
  return body
end

local function seed_records(res, count)
  local st = res.store
  local unique = res.rules.unique
  -- Seeded records are spread over the last `count` ms, so created_at filters
  -- and sorts have something to bite on.
  local first = max(state.last_stamp + 1, floor(now_ms()) - count)
  for i = 1, count do
    local body
    repeat
      st.seed_counter = st.seed_counter + 1
      body = seed_body(res, st.seed_counter)
    until not unique or not st.unique[body[unique]]
    local rec = new_record(res, body, first + i - 1)
    if res.rules.settles then rec.data.status = "added" end
    store_insert(res, rec)
  end
  state.last_stamp = max(state.last_stamp, first + count - 1)
end

---------------------------------------------------------------------------
-- Scheduler: one coroutine per connection; they yield ("read", sock),
-- ("write", sock) or ("sleep", until_ms) and a select loop resumes them.
---------------------------------------------------------------------------
-- Sockets that coroutines wait on, kept as the array socket.select takes, so the
-- loop does not rebuild it on every turn: socks stays dense (a removal moves the
-- last socket into the hole), pos maps a socket to its index, co to its coroutine.
local readers, writers
do
  local function new_waiters()
    local w = {socks = {}, n = 0, pos = {}, co = {}}
    function w.add(sock, co)
      if not w.pos[sock] then
        w.n = w.n + 1
        w.socks[w.n], w.pos[sock] = sock, w.n
      end
      w.co[sock] = co
    end
    -- Forgets sock; returns the coroutine that waited on it, if any.
    function w.take(sock)
      local i = w.pos[sock]
      if not i then return nil end
      local socks, n = w.socks, w.n
      local last = socks[n]
      socks[i], w.pos[last] = last, i
      socks[n], w.pos[sock], w.n = nil, nil, n - 1
      local co = w.co[sock]
      w.co[sock] = nil
      return co
    end
    return w
  end
  readers, writers = new_waiters(), new_waiters()
end

-- Timers: a binary min-heap ordered by deadline, then by insertion (seq), so
-- timers with equal deadlines fire first in, first out.
local timers = {n = 0, seq = 0}
do
  local function earlier(a, b)
    return a.at < b.at or (a.at == b.at and a.seq < b.seq)
  end

  function timers.push(at, co)
    timers.seq = timers.seq + 1
    local t = {at = at, seq = timers.seq, co = co}
    timers.n = timers.n + 1
    local i = timers.n
    while i > 1 do
      local parent = i // 2
      if not earlier(t, timers[parent]) then break end
      timers[i] = timers[parent]
      i = parent
    end
    timers[i] = t
  end

  function timers.pop()
    local top, last = timers[1], timers[timers.n]
    timers[timers.n] = nil
    local n = timers.n - 1
    timers.n = n
    if n > 0 then
      local i = 1
      while true do
        local child = 2 * i
        if child > n then break end
        if child < n and earlier(timers[child + 1], timers[child]) then child = child + 1 end
        if not earlier(timers[child], last) then break end
        timers[i] = timers[child]
        i = child
      end
      timers[i] = last
    end
    return top
  end
end

local open_conns = {}
local open_count = 0

local function wait_read(sock) coroutine.yield("read", sock) end
local function wait_write(sock) coroutine.yield("write", sock) end
local function sleep_until(at) coroutine.yield("sleep", at) end
-- When select last returned: whatever it found readable had arrived by then.
local woke_ms = 0
local function sleep_ms(ms) sleep_until(now_ms() + ms) end

-- Looks at the sockets during long work (a coroutine yielding "poll"). seen[sock]: when a look
-- found sock readable (its bytes had arrived by then, before the select that hands them
-- over); looked_ms: when the last look was.
local arrivals = {seen = setmetatable({}, {__mode = "k"}), looked_ms = 0}

local function resume(co, ...)
  local ok, what, arg = coroutine.resume(co, ...)
  if not ok then
    log_error(traceback(co, what))
  elseif coroutine.status(co) == "suspended" then
    if what == "read" then readers.add(arg, co)
    elseif what == "write" then writers.add(arg, co)
    elseif what == "sleep" then timers.push(arg, co)
    elseif what == "poll" then
      -- A look every half millisecond at most: each costs a select (some 15 µs here).
      local now = now_ms()
      if now - max(woke_ms, arrivals.looked_ms) >= 0.5 then
        arrivals.looked_ms = now
        local readable, seen = socket.select(readers.socks, nil, 0), arrivals.seen
        now = now_ms()
        for _, sock in ipairs(readable) do
          if readers.co[sock] and not seen[sock] then seen[sock] = now end
        end
      end
      return resume(co)
    end
  end
end

-- Resumes every due timer, in deadline order, and those that fall due meanwhile:
-- going back to select with a timer already due would only make it later.
local function run_due_timers()
  local now = now_ms()
  while timers.n > 0 do
    if timers[1].at > now then
      now = now_ms()
      if timers[1].at > now then return end
    end
    resume(timers.pop().co)
  end
end

---------------------------------------------------------------------------
-- Connections and HTTP/1.1
---------------------------------------------------------------------------
-- Log entries whose request is still in flight (kept out of the entries, which are served as is).
local open_entries = setmetatable({}, {__mode = "k"})

local REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [413] = "Payload Too Large", [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

local function end_entry(entry, status)
  if not entry or not open_entries[entry] then return end
  open_entries[entry] = nil
  local now = now_ms()
  entry.t_end_ms = floor(now)
  entry.status = status or NULL
  if status then entry.t_answered_ms = now end
  state.stats.in_flight = state.stats.in_flight - 1
  if verbose then   -- not only log(): its arguments cost even when they go nowhere
    log("%s %s%s -> %s (%d ms)", entry.method, entry.path, entry.query ~= "" and "?" .. entry.query or "",
      tostring(status or "no answer"), entry.t_end_ms - entry.t_start_ms)
  end
end

local function close_conn(conn)
  if conn.closed then return end
  conn.closed = true
  conn.sock:close()
  readers.take(conn.sock)
  writers.take(conn.sock)
  open_conns[conn] = nil
  open_count = open_count - 1
  if conn.api then state.stats.connections_open = state.stats.connections_open - 1 end
  end_entry(conn.entry, nil)
end

-- Appends what the socket has to conn.buf, waiting if it has nothing yet.
-- Returns false at end of stream.
-- conn.data_ms: a time by which the bytes last read had arrived (never before they did), so
-- the latency of a request in a burst counts from its arrival, not from when the mock got
-- round to reading it.
local function fill_buffer(conn)
  if conn.eof then return false end
  local ready_ms
  while true do
    local data, err, partial = conn.sock:receive(READ_CHUNK)
    local chunk = data or partial
    if err and err ~= "timeout" then conn.eof = true end
    if chunk and chunk ~= "" then
      conn.buf = conn.buf .. chunk
      conn.data_ms = ready_ms or now_ms()
      return true
    end
    if conn.eof then return false end
    wait_read(conn.sock)
    -- resumed by the select that found the socket readable, or seen so earlier (a look
    -- during the long work of this select's batch is later than the select, not earlier)
    ready_ms = min(arrivals.seen[conn.sock] or woke_ms, woke_ms)
    arrivals.seen[conn.sock] = nil
  end
end

local function read_exact(conn, n)
  local buf = conn.buf
  if #buf >= n then
    conn.buf = sub(buf, n + 1)
    return sub(buf, 1, n)
  end
  local parts, have = {buf}, #buf
  conn.buf = ""
  while have < n do
    if not fill_buffer(conn) then return nil end
    parts[#parts + 1], have, conn.buf = conn.buf, have + #conn.buf, ""
  end
  local all = concat(parts)
  conn.buf = sub(all, n + 1)
  return sub(all, 1, n)
end

local function read_line(conn, limit)
  while true do
    local e = find(conn.buf, "\n", 1, true)
    if e then
      local line = sub(conn.buf, 1, e - 1)
      conn.buf = sub(conn.buf, e + 1)
      return (gsub(line, "\r$", ""))
    end
    if #conn.buf > limit or not fill_buffer(conn) then return nil end
  end
end

local function send_all(conn, data)
  local i, n = 1, #data
  while i <= n do
    local last, err, partial = conn.sock:send(data, i)
    if last then
      i = last + 1
    elseif err == "timeout" then
      i = partial + 1
      if i <= n then wait_write(conn.sock) end
    else
      return false
    end
  end
  return true
end

local date_cache_s, date_cache = -1, ""
local function http_date()
  local s = floor(socket.gettime())
  if s ~= date_cache_s then
    date_cache_s, date_cache = s, os.date("!%a, %d %b %Y %H:%M:%S GMT", s)
  end
  return date_cache
end

local render_head
do
  local NO_OVERRIDES = {}

  -- Head of a response: the mock's usual fields (length = nil leaves Content-Length
  -- out; chunked adds Transfer-Encoding), then `overrides` (a fault rule's headers),
  -- which replace usual fields of the same name, case-insensitively. Without
  -- overrides, one concatenation builds it.
  function render_head(status, content_type, length, keep_alive, overrides, chunked)
    local request_id = state.request_rng.uuid()   -- drawn even when overridden
    local drop = NO_OVERRIDES
    if overrides then
      drop = {}
      for name in pairs(overrides) do drop[lower(name)] = true end
    end
    local head = "HTTP/1.1 " .. tostring(status) .. " " .. (REASONS[status] or "Unknown") .. "\r\n"
      .. ((content_type and not drop["content-type"]) and "Content-Type: " .. content_type .. "\r\n" or "")
      .. ((length and not drop["content-length"]) and "Content-Length: " .. tostring(length) .. "\r\n" or "")
      .. (drop["x-request-id"] and "" or "x-request-id: " .. request_id .. "\r\n")
      .. (drop.date and "" or "Date: " .. http_date() .. "\r\n")
      .. (drop.connection and "" or "Connection: " .. (keep_alive and "keep-alive" or "close") .. "\r\n")
      .. ((chunked and not drop["transfer-encoding"]) and "Transfer-Encoding: chunked\r\n" or "")
    if not overrides then return head .. "\r\n" end
    local out = {head}
    for name, value in pairs(overrides) do
      out[#out + 1] = gsub(name, "[\r\n:]", "") .. ": " .. gsub(tostring(value), "[\r\n]", " ") .. "\r\n"
    end
    out[#out + 1] = "\r\n"
    return concat(out)
  end
end

-- resp = {status=, body=?, content_type=?, headers=?}; a 204 carries neither a
-- body nor Content-Length (RFC 9110 8.6); the answer to a HEAD has no body.
-- The bytes of a response: head and body.
local function render_response(resp, keep_alive, method)
  local status, body = resp.status, resp.body or ""
  local no_body = status == 204 or status == 304
  local head = render_head(status, (not no_body) and (resp.content_type or JSON_TYPE) or nil,
    (not no_body) and #body or nil, keep_alive, resp.headers)
  if no_body or method == "HEAD" then body = "" end
  return head .. body
end

local function send_response(conn, resp, keep_alive, method)
  return send_all(conn, render_response(resp, keep_alive, method))
end

local function bad_request(status, detail)
  local resp = error_response(nil, status, detail)
  resp.close = true
  return resp
end

local function read_chunked_body(conn)
  local parts, total = {}, 0
  while true do
    local line = read_line(conn, 1024)
    if not line then return nil, bad_request(400, "Truncated chunked body.") end
    local size = tonumber(match(line, "^%s*(%x+)") or "", 16)
    if not size then return nil, bad_request(400, "Malformed chunk size.") end
    if size == 0 then
      repeat
        line = read_line(conn, 8192)
        if not line then return nil, bad_request(400, "Truncated chunked trailer.") end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > MAX_BODY then return nil, bad_request(413) end
    local data = read_exact(conn, size)
    if not data then return nil, bad_request(400, "Truncated chunked body.") end
    parts[#parts + 1] = data
    if read_line(conn, 2) ~= "" then return nil, bad_request(400, "Malformed chunk.") end
  end
end

local find_head_end, parse_headers
do
  -- Where the head in buf ends, as find(buf, "\r?\n\r?\n") would say: the first "\n"
  -- followed by "\n" or "\r\n", and a "\r" just before it. Plain finds: a pattern
  -- search would try a match at every byte of the request.
  function find_head_end(buf)
    local lf_lf, lf_crlf = find(buf, "\n\n", 1, true), find(buf, "\n\r\n", 1, true)
    local nl, e
    if lf_lf and (not lf_crlf or lf_lf < lf_crlf) then nl, e = lf_lf, lf_lf + 1
    elseif lf_crlf then nl, e = lf_crlf, lf_crlf + 2
    else return nil end
    return byte(buf, nl - 1) == 13 and nl - 1 or nl, e
  end

  -- The header lines of a block (runs of anything but CR and LF) as a table by
  -- lower-cased name, or nil if a line is not "token: value".
  local function parse(block)
    local headers = {}
    for line in gmatch(block, "[^\r\n]+") do
      local name, value = match(line, "^([%w!#$%%&'*+%-.^_`|~]+):[ \t]*(.-)[ \t]*$")
      if not name then return nil end
      name = lower(name)
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
    return headers
  end

  -- Blocks parsed before, by their text: a client sends the same header block on
  -- every request but for a few values (Content-Length), and matching patterns
  -- over every byte of it costs more than the rest of reading a request. Bounded:
  -- blocks up to 4 KB, at most 64 (then it starts over).
  local parsed, parsed_count = {}, 0

  -- Like parse, but a fresh table from the cache when the block was seen before.
  function parse_headers(block)
    local known = parsed[block]
    if not known then
      known = parse(block)
      if not known then return nil end
      if #block <= 4096 then
        if parsed_count >= 64 then parsed, parsed_count = {}, 0 end
        parsed[block], parsed_count = known, parsed_count + 1
      end
    end
    local headers = {}
    for name, value in pairs(known) do headers[name] = value end
    return headers
  end
end

-- Returns the next request, or nil plus a response to send before closing
-- (nil at a clean end of stream).
local function read_request(conn)
  local buf, head_end
  while true do
    local first = byte(conn.buf, 1)
    if first == 13 or first == 10 then conn.buf = gsub(conn.buf, "^[\r\n]+", "") end
    local s, e = find_head_end(conn.buf)
    if s then
      buf, head_end = conn.buf, s   -- the head is buf up to head_end - 1
      conn.buf = sub(buf, e + 1)
      break
    end
    if #conn.buf > MAX_HEAD then return nil, bad_request(431, "Request headers are too large.") end
    if not fill_buffer(conn) then
      if conn.buf ~= "" then return nil, bad_request(400, "Truncated request head.") end
      return nil
    end
  end

  -- The request line ends at the first CR or LF (there is one: the head ends in them).
  local cr, lf = find(buf, "\r", 1, true), find(buf, "\n", 1, true)
  local line_end = (cr and lf) and min(cr, lf) or cr or lf
  local reqline = sub(buf, 1, line_end - 1)
  local method, target, version = match(reqline, "^(%u+) (%S+) HTTP/(1%.[01])$")
  if not method then return nil, bad_request(400, "Malformed request line.") end
  local headers = parse_headers(sub(buf, line_end, head_end - 1))
  if not headers then return nil, bad_request(400, "Malformed header line.") end

  local path, query = match(target, "^([^?#]*)%??([^#]*)")
  if sub(path, 1, 1) ~= "/" then path = gsub(path, "^https?://[^/]*", "") end
  if sub(path, 1, 1) ~= "/" then return nil, bad_request(400, "Malformed request target.") end

  local connection = lower(headers.connection or "")
  local keep_alive
  if version == "1.0" then keep_alive = find(connection, "keep-alive", 1, true) ~= nil
  else keep_alive = not find(connection, "close", 1, true) end

  local expects = lower(headers.expect or "") == "100-continue"
  local body = ""
  local te = headers["transfer-encoding"]
  if te then
    if not find(lower(te), "chunked", 1, true) then
      return nil, bad_request(400, "Unsupported Transfer-Encoding.")
    end
    if expects and conn.buf == "" then send_all(conn, "HTTP/1.1 100 Continue\r\n\r\n") end
    local err
    body, err = read_chunked_body(conn)
    if not body then return nil, err end
  elseif headers["content-length"] then
    local n = match(headers["content-length"], "^%s*(%d+)%s*$")
    n = n and tonumber(n)
    if not n then return nil, bad_request(400, "Malformed Content-Length.") end
    if n > MAX_BODY then return nil, bad_request(413) end
    if n > 0 then
      if expects and #conn.buf < n then send_all(conn, "HTTP/1.1 100 Continue\r\n\r\n") end
      body = read_exact(conn, n)
      if not body then return nil, bad_request(400, "Truncated request body.") end
    end
  end

  return {method = method, target = target, path = path, query = query,
          query_params = parse_query(query), headers = headers, body = body,
          keep_alive = keep_alive}
end

---------------------------------------------------------------------------
-- Request log and stats
---------------------------------------------------------------------------
local function begin_entry(conn, req)
  local stats = state.stats
  if not conn.api then
    conn.api = true
    stats.connections_open = stats.connections_open + 1
  end
  if conn.epoch ~= stats.epoch then
    conn.epoch = stats.epoch
    stats.connections_opened = stats.connections_opened + 1
  end
  stats.requests = stats.requests + 1
  stats.in_flight = stats.in_flight + 1
  if stats.in_flight > stats.peak_in_flight then stats.peak_in_flight = stats.in_flight end

  state.next_request_seq = state.next_request_seq + 1
  local entry = {seq = state.next_request_seq, method = req.method, path = req.path,
                 query = req.query, query_params = req.query_params, headers = req.headers,
                 body = req.body, conn = conn.id, t_start_ms = floor(now_ms()),
                 t_end_ms = NULL, status = NULL, t_arrived_ms = conn.data_ms or now_ms(),
                 t_due_ms = NULL, t_answered_ms = NULL}
  local lg = state.log
  lg.last = lg.last + 1
  lg[lg.last] = entry
  if lg.last - lg.first >= MAX_LOG then
    lg[lg.first] = nil
    lg.first = lg.first + 1
  end
  conn.entry = entry
  open_entries[entry] = true
  return entry
end

---------------------------------------------------------------------------
-- Faults
---------------------------------------------------------------------------
local CLOSE_MID_BODY_FILLER = '{"data":[' .. rep('{"id":"00000000-0000-4000-8000-000000000000",'
  .. '"record_type":"filler"},', 64) .. '{}],"meta":{"total_pages":1,"total_results":65,'
  .. '"page_number":1,"page_size":65}}'
local BAD_JSON = '{"data": {"id": "3f1c", "record_type": oops'
local INVALID_UTF8 = '{"data":{"id":"7b1c2e9a-1111-4a4a-8b8b-000000000000","name":"bad \255\254 utf-8 \195\40 here"}}'
local HTML_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
  .. "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

local big_bodies = {}
local function cached_body(name, make)
  local b = big_bodies[name]
  if not b then
    b = make()
    big_bodies[name] = b
  end
  return b
end

local function huge_json()   -- about 10 MiB: 10,240 strings of 1 KiB
  return cached_body("huge", function()
    local item = '"' .. rep("x", 1022) .. '"'
    return '{"data":[' .. rep(item, 10240, ",") .. '],"meta":{"total_pages":1,'
      .. '"total_results":10240,"page_number":1,"page_size":10240}}'
  end)
end

local function deep_json()   -- an array nested 100,000 deep
  return cached_body("deep", function() return rep("[", 100000) .. rep("]", 100000) end)
end

-- Actions that answer with a whole (if odd) response: status, content type, body.
local CANNED = {
  respond = function(rule)
    local status = rule.status or 500
    return status, JSON_TYPE, rule.body or error_response(nil, status).body
  end,
  bad_json = function(rule) return rule.status or 200, JSON_TYPE, rule.body or BAD_JSON end,
  huge_body = function(rule) return rule.status or 200, JSON_TYPE, rule.body or huge_json() end,
  deep_json = function(rule) return rule.status or 200, JSON_TYPE, rule.body or deep_json() end,
  invalid_utf8 = function(rule) return rule.status or 200, JSON_TYPE, rule.body or INVALID_UTF8 end,
  html_502 = function(rule) return rule.status or 502, "text/html", rule.body or HTML_502 end,
  headers_only = function(rule) return rule.status or 200, JSON_TYPE, "" end,
  close_mid_body = function(rule) return rule.status or 200, JSON_TYPE, rule.body or CLOSE_MID_BODY_FILLER end,
  truncated_chunked = function(rule)
    return rule.status or 200, JSON_TYPE, rule.body or CLOSE_MID_BODY_FILLER
  end,
}

local FAULT_ACTIONS = {hang = true, close = true, reset = true}
for name in pairs(CANNED) do FAULT_ACTIONS[name] = true end

-- Does a rule's header set announce "Connection: close"? Then the mock closes too.
local function says_close(headers)
  for name, value in pairs(headers or {}) do
    if lower(name) == "connection" and find(lower(value), "close", 1, true) then return true end
  end
  return false
end

local function path_matches(pattern, path)
  if pattern == nil then return true end
  if sub(pattern, 1, 1) == "^" then return find(path, pattern) ~= nil end
  return sub(path, 1, #pattern) == pattern
end

local function take_fault(method, path)
  for i, rule in ipairs(state.faults) do
    if (rule.method == nil or rule.method == method) and path_matches(rule.path, path) then
      if rule.skip > 0 then
        rule.skip = rule.skip - 1
      else
        rule.hits = rule.hits + 1
        if rule.count > 0 then
          rule.count = rule.count - 1
          if rule.count == 0 then remove(state.faults, i) end
        end
        return rule
      end
    end
  end
  return nil
end

-- Waits until the peer closes, discarding anything it sends.
local function drain_until_closed(conn)
  conn.buf = ""
  while fill_buffer(conn) do conn.buf = "" end
end

-- Carries out a fault; returns keep_alive, status sent (nil when none was).
local function run_fault(conn, req, rule)
  if rule.delay_ms > 0 then sleep_ms(rule.delay_ms) end
  local action = rule.action
  if action == "hang" then
    drain_until_closed(conn)
    return false, nil
  elseif action == "close" then
    return false, nil
  elseif action == "reset" then
    conn.sock:setoption("linger", {on = true, timeout = 0})
    return false, nil
  end
  local status, content_type, body = CANNED[action](rule)
  content_type = rule.content_type or content_type
  if action == "close_mid_body" then
    local head = render_head(status, content_type, #body, true, rule.headers)
    send_all(conn, head .. sub(body, 1, #body // 2))
    return false, status
  elseif action == "truncated_chunked" then
    local half = sub(body, 1, #body // 2)
    send_all(conn, render_head(status, content_type, nil, true, rule.headers, true)
      .. format("%x\r\n%s\r\n", #half, half) .. format("%x\r\n", #body - #half)
      .. sub(body, #half + 1, #half + 16))
    return false, status
  end
  local keep = req.keep_alive and not says_close(rule.headers)
  local ok = send_response(conn, {status = status, content_type = content_type, body = body,
                                  headers = rule.headers}, keep, req.method)
  return ok and keep, status
end

-- A fault rule from its JSON description, or nil and what is wrong with it.
local function new_fault_rule(t)
  if type(t) ~= "table" or is_array(t) then return nil, "a fault rule is a JSON object" end
  local action = t.action or "respond"
  if not FAULT_ACTIONS[action] then return nil, "unknown action " .. tostring(action) end
  if t.method ~= nil and type(t.method) ~= "string" then return nil, "method must be a string" end
  if t.path ~= nil then
    if type(t.path) ~= "string" then return nil, "path must be a string" end
    if sub(t.path, 1, 1) == "^" and not pcall(find, "", t.path) then
      return nil, "path is not a valid Lua pattern"
    end
  end
  local count = t.count == nil and 1 or tointeger(t.count)
  if not count or (count < 1 and count ~= -1) then return nil, "count must be -1 or a positive integer" end
  local skip = t.skip == nil and 0 or tointeger(t.skip)
  if not skip or skip < 0 then return nil, "skip must be a non-negative integer" end
  local status = t.status ~= nil and tointeger(t.status) or nil
  if t.status ~= nil and not (status and status >= 100 and status <= 599) then
    return nil, "status must be an integer from 100 to 599"
  end
  if t.headers ~= nil and type(t.headers) ~= "table" then return nil, "headers must be an object" end
  local headers
  if t.headers and next(t.headers) then
    headers = {}
    for k, v in pairs(t.headers) do
      if type(k) ~= "string" then return nil, "headers must be an object" end
      headers[k] = type(v) == "number" and scalar_text(v) or tostring(v)
    end
  end
  local body = t.body
  if body ~= nil and type(body) ~= "string" then body = json_encode(body) end
  if t.content_type ~= nil and type(t.content_type) ~= "string" then return nil, "content_type must be a string" end
  local delay = t.delay_ms == nil and 0 or tonumber(t.delay_ms)
  if not delay or delay < 0 then return nil, "delay_ms must be a non-negative number" end
  local rule = {id = state.next_fault_id, action = action, method = t.method and upper(t.method),
                path = t.path, count = count, skip = skip, status = status, headers = headers,
                body = body, content_type = t.content_type, delay_ms = delay, hits = 0}
  state.next_fault_id = state.next_fault_id + 1
  return rule
end

---------------------------------------------------------------------------
-- Serving an API request
---------------------------------------------------------------------------
local function api_response(req)
  local ok, resp = xpcall(route_api, traceback, req)
  if ok then return resp end
  log_error(resp)
  return error_response(nil, 500, "The mock server failed: " .. tostring(match(resp, "^[^\n]*")))
end

-- Returns whether the connection stays open.
local function serve_api(conn, req)
  local entry = begin_entry(conn, req)
  -- The latency counts from the request's arrival, as it would at a server with workers to
  -- spare: the answer is made now and waits out the rest. Counted from its making, each answer
  -- of a burst would also wait for those made before it, and a one-thread mock would add its
  -- own queueing to every round of a concurrent client.
  local due = state.latency_ms > 0 and entry.t_arrived_ms + state.latency_ms
  if due then entry.t_due_ms = due end
  local rule = take_fault(req.method, req.path)
  local keep, status
  if rule then
    entry.fault = rule.action
    if due then sleep_until(due) end
    keep, status = run_fault(conn, req, rule)
  else
    local resp = api_response(req)
    keep = req.keep_alive and not resp.close
    status = resp.status
    local bytes = render_response(resp, keep, req.method)
    if due then sleep_until(due) end
    keep = send_all(conn, bytes) and keep
  end
  end_entry(entry, status)
  conn.entry = nil
  return keep
end

---------------------------------------------------------------------------
-- Control API (/__mock/...)
---------------------------------------------------------------------------
local function reset_state(seed)
  if seed then state.seed = tointeger(seed) or tointeger(floor(seed % 2^62)) end
  state.rng = new_rng(state.seed)
  -- A different stream for x-request-id, so answering requests never shifts record ids.
  state.request_rng = new_rng(state.seed ~ 0x5DEECE66D)
  state.user_id = state.rng.uuid()
  state.organization_id = state.rng.uuid()
  state.seq = 0
  for _, res in pairs(state.resources) do res.store = new_store() end
  state.faults = {}
  state.log = {first = 1, last = 0}
  state.stats = new_stats(state.stats)
  state.latency_ms = state.base_latency_ms
end

local function control_error(status, message)
  return {status = status, body = json_encode({error = message})}
end

local function control_body(req)
  if match(req.body or "", "^%s*$") then return {} end
  local v, err = json_decode(req.body)
  if v == nil then return nil, control_error(400, "body is not JSON: " .. err) end
  return v
end

local function encode_list(items)
  local parts = {}
  for i, item in ipairs(items) do parts[i] = json_encode(item) end
  return "[" .. concat(parts, ",") .. "]"
end

local CONTROL = {}

CONTROL["POST faults"] = function(req)
  local body, problem = control_body(req)
  if not body then return problem end
  local list = (rawlen(body) > 0) and body or {body}
  local rules = {}
  for i, t in ipairs(list) do
    local rule, err = new_fault_rule(t)
    if not rule then return control_error(400, err) end
    rules[i] = rule
  end
  for _, rule in ipairs(rules) do state.faults[#state.faults + 1] = rule end
  return json_response(200, (rawlen(body) > 0) and encode_list(rules) or json_encode(rules[1]))
end

CONTROL["GET faults"] = function() return json_response(200, encode_list(state.faults)) end

CONTROL["DELETE faults"] = function()
  local n = #state.faults
  state.faults = {}
  return json_response(200, {cleared = n})
end

CONTROL["GET requests"] = function(req)
  local since = tonumber(req.query_params.since or "") or 0
  local lg, parts = state.log, {}
  for i = lg.first, lg.last do
    local entry = lg[i]
    if entry.seq > since then parts[#parts + 1] = json_encode(entry) end
  end
  return json_response(200, "[" .. concat(parts, ",") .. "]")
end

CONTROL["DELETE requests"] = function()
  local n = state.log.last - state.log.first + 1
  state.log = {first = 1, last = 0}
  return json_response(200, {cleared = n})
end

local function stats_view()
  local s = state.stats
  return {connections_opened = s.connections_opened, connections_open = s.connections_open,
          requests = s.requests, in_flight = s.in_flight, peak_in_flight = s.peak_in_flight,
          latency_ms = state.latency_ms}
end

CONTROL["GET stats"] = function() return json_response(200, stats_view()) end

CONTROL["DELETE stats"] = function()
  state.stats = new_stats(state.stats)
  return json_response(200, stats_view())
end

CONTROL["GET latency"] = function() return json_response(200, {ms = state.latency_ms}) end

CONTROL["POST latency"] = function(req)
  local body, problem = control_body(req)
  if not body then return problem end
  local ms = type(body) == "table" and tonumber(body.ms)
  if not ms or ms < 0 then return control_error(400, 'expected {"ms": N} with N >= 0') end
  state.latency_ms = ms
  return json_response(200, {ms = ms})
end

CONTROL["POST reset"] = function(req)
  local body, problem = control_body(req)
  if not body then return problem end
  local seed = type(body) == "table" and body.seed ~= nil and tonumber(body.seed) or nil
  if type(body) == "table" and body.seed ~= nil and not seed then
    return control_error(400, "seed must be a number")
  end
  reset_state(seed)
  return json_response(200, {ok = true, seed = state.seed})
end

CONTROL["POST seed"] = function(req)
  local body, problem = control_body(req)
  if not body then return problem end
  local res = type(body) == "table" and state.resources[body.resource or ""]
  if not res then
    local names = {}
    for name in pairs(state.resources) do names[#names + 1] = name end
    sort(names)
    return control_error(400, "resource must be one of: " .. concat(names, ", "))
  end
  local count = tointeger(body.count or 1)
  if not count or count < 0 or count > MAX_SEED then
    return control_error(400, "count must be an integer from 0 to " .. MAX_SEED)
  end
  seed_records(res, count)
  return json_response(200, {resource = res.name, created = count, total = #store_items(res)})
end

local function control_response(req)
  local name = match(req.path, "^/__mock/([%w_]+)/?$")
  local handler = name and CONTROL[req.method .. " " .. name]
  if not handler then
    return control_error(404, "no control endpoint " .. req.method .. " " .. req.path)
  end
  local ok, resp = xpcall(handler, traceback, req)
  if ok then return resp end
  log_error(resp)
  return control_error(500, tostring(match(resp, "^[^\n]*")))
end

---------------------------------------------------------------------------
-- Connection loop
---------------------------------------------------------------------------
local function connection_loop(conn)
  while not conn.closed do
    local req, failure = read_request(conn)
    if not req then
      if failure then send_response(conn, failure, false) end
      return
    end
    local keep
    if sub(req.path, 1, 8) == "/__mock/" then
      keep = req.keep_alive
      keep = send_response(conn, control_response(req), keep, req.method) and keep
    else
      keep = serve_api(conn, req)
    end
    if not keep then return end
  end
end

local function serve_connection(conn)
  local ok, err = xpcall(connection_loop, traceback, conn)
  if not ok then log_error(err) end
  close_conn(conn)
end

local function accept_all(server)
  while true do
    local sock = server:accept()
    if not sock then return end
    if open_count >= MAX_CONNS then
      sock:close()
    else
      sock:settimeout(0)
      sock:setoption("tcp-nodelay", true)
      state.next_conn_id = state.next_conn_id + 1
      local conn = {sock = sock, id = state.next_conn_id, buf = "", eof = false}
      open_conns[conn] = true
      open_count = open_count + 1
      resume(coroutine.create(serve_connection), conn)
    end
  end
end

local function run(server)
  readers.add(server, false)   -- always watched; readable means a connection to accept
  while true do
    local timeout = MAX_WAIT
    if timers.n > 0 then timeout = min(MAX_WAIT, max(0, (timers[1].at - now_ms()) / 1000)) end
    local readable, writable = socket.select(readers.socks, writers.socks, timeout)
    woke_ms = now_ms()
    for _, sock in ipairs(readable) do
      if sock == server then
        accept_all(server)
      else
        local co = readers.take(sock)
        if co then resume(co) end
      end
    end
    for _, sock in ipairs(writable) do
      local co = writers.take(sock)
      if co then resume(co) end
    end
    run_due_timers()
  end
end

---------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------
local function script_dir()
  local path = arg and arg[0] or ""
  return match(path, "^(.*)/[^/]*$") or "."
end

local function parse_args(argv)
  local parser = argparse("mock-server.lua", "Local, stateful mock of the Telnyx account-access API.")
  parser:option("--port", "TCP port on 127.0.0.1 (0 picks a free one).", "0"):convert(tonumber)
  parser:option("--seed", "Seed of the generator of ids and values (reproducible runs)."):convert(tonumber)
  parser:option("--latency", "Send every API response MS milliseconds after its request arrived.", "0"):convert(tonumber)
  parser:option("--spec", "OpenAPI file.", script_dir() .. "/build/telnyx-account-access.openapi.json")
  parser:flag("-v --verbose", "Log one line per API request on stderr.")
  return parser:parse(argv)
end

local function main(argv)
  local args = parse_args(argv)
  verbose = args.verbose
  state.api = load_openapi(args.spec)
  state.resources, state.routes = build_api(state.api)
  state.base_latency_ms = max(0, args.latency or 0)
  reset_state(args.seed or floor(socket.gettime() * 1000000))

  local server, err = socket.bind("127.0.0.1", args.port or 0, 1024)
  if not server then
    io.stderr:write("mock-server: cannot listen on 127.0.0.1:", tostring(args.port), ": ", tostring(err), "\n")
    os.exit(1)
  end
  server:settimeout(0)
  local _, port = server:getsockname()
  io.stdout:write(format("telnyx mock listening on http://127.0.0.1:%d/v2\n", port))
  io.stdout:flush()

  -- lua.c (and the host) turn SIGINT into an "interrupted!" error raised in the main
  -- thread by a hook; it lands between select calls. Close everything and exit 0.
  local ok, failure = pcall(run, server)
  server:close()
  for conn in pairs(open_conns) do conn.sock:close() end
  if ok or find(tostring(failure), "interrupted", 1, true) then os.exit(0) end
  io.stderr:write("mock-server: ", tostring(failure), "\n")
  os.exit(1)
end

main(arg)
