-- The control API (/__mock/...) the specs drive the mock with: faults, the request log,
-- stats, latency, reset and seeding. No auth; JSON in and out.

local util = require "mock.util"
local faults = require "mock.faults"
local store = require "mock.store"
local responses = require "mock.responses"
local generic = require "mock.generic"
local shared = require "mock.state"

local log_error, new_rng, json_encode, json_decode =
  util.log_error, util.new_rng, util.json_encode, util.json_decode
local new_fault_rule = faults.new_fault_rule
local new_store, store_items, seed_records = store.new_store, store.store_items, store.seed_records
local json_response = responses.json_response
local state, new_stats = shared.state, shared.new_stats

local concat, sort = table.concat, table.sort
local match = string.match
local floor, tointeger = math.floor, math.tointeger
local traceback = debug.traceback

local MAX_SEED = 1000000

local function reset_state(seed)
  if seed then state.seed = tointeger(seed) or tointeger(floor(seed % 2^62)) end
  state.rng = new_rng(state.seed)
  -- A different stream for x-request-id, so answering requests never shifts record ids.
  state.request_rng = new_rng(state.seed ~ 0x5DEECE66D)
  state.user_id = state.rng.uuid()
  state.organization_id = state.rng.uuid()
  state.seq = 0
  for _, res in pairs(state.resources) do res.store = new_store() end
  state.generic_stores = {}
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
  local name = type(body) == "table" and body.resource or ""
  -- "/access_ip_address" names the account-access resource as "access_ip_address" does
  local res = type(name) == "string" and (state.resources[name] or state.resources[match(name, "^/([^/]+)$") or ""])
  local whole = not res and type(name) == "string" and state.catalog and generic.seedable(name)
  if not res and not whole then
    local names = {}
    for n in pairs(state.resources) do names[#names + 1] = n end
    sort(names)
    return control_error(400, "resource must be one of: " .. concat(names, ", ")
      .. ", or the path of a list of the spec (\"/messaging_profiles\")")
  end
  local count = tointeger(body.count or 1)
  if not count or count < 0 or count > MAX_SEED then
    return control_error(400, "count must be an integer from 0 to " .. MAX_SEED)
  end
  if whole then
    return json_response(200, {resource = name, created = count, total = generic.seed(name, count)})
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

return {reset_state = reset_state, control_response = control_response}
