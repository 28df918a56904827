-- Serving an API request: authorization, the route, then the operation's handler. The
-- account-access subset's operations keep their own handlers (create, retrieve, update,
-- delete, a list, or an action by operationId); every other operation of the whole spec is
-- served by mock.generic.

local util = require "mock.util"
local lists = require "mock.lists"
local routes = require "mock.routes"
local store = require "mock.store"
local responses = require "mock.responses"
local catalog = require "mock.catalog"
local generic = require "mock.generic"
local shared = require "mock.state"

local NULL, now_ms, base64url, B64URL, EMPTY_ARRAY, json_encode, scalar_text =
  util.NULL, util.now_ms, util.base64url, util.B64URL, util.EMPTY_ARRAY, util.json_encode, util.scalar_text
local h_list = lists.h_list
local match_route, decode_body, record_response, find_record =
  routes.match_route, routes.decode_body, routes.record_response, routes.find_record
local store_insert, store_delete, new_record, update_record, settle =
  store.store_insert, store.store_delete, store.new_record, store.update_record, store.settle
local error_response, json_response = responses.error_response, responses.json_response
local state, next_stamp = shared.state, shared.next_stamp

local concat, sort = table.concat, table.sort
local format, sub, upper, match = string.format, string.sub, string.upper, string.match
local floor = math.floor

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

-- Actions (operations that are not plain CRUD), by operationId

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

local function method_not_allowed(...)
  local allowed, seen = {}, {}
  for i = 1, select("#", ...) do
    local route = select(i, ...)
    for m in pairs(route and route.ops or {}) do
      if not seen[m] then seen[m], allowed[#allowed + 1] = true, m end
    end
  end
  sort(allowed)
  local resp = error_response(nil, 405)
  resp.headers = {Allow = concat(allowed, ", ")}
  return resp
end

-- Does the operation ask for credentials? Not when its `security` is empty or allows none.
local function needs_auth(op)
  local sec = op.raw.security
  if type(sec) ~= "table" then return true end
  if next(sec) == nil then return false end
  for _, req in ipairs(sec) do if next(req) == nil then return false end end
  return true
end

-- An operation of the whole spec outside the subset: under /v2, or at the root for the paths
-- whose `servers` says so.
local function route_whole(req, prefix, path, subset_route)
  local route, params = nil, nil
  if state.catalog then route, params = catalog.match_route(state.catalog, prefix, path) end
  local op = route and route.ops[req.method]
  if not op then
    -- as before the whole spec was served: under /v2, credentials are checked first
    if prefix == "/v2" and not authorized(req.headers.authorization) then return error_response(nil, 401) end
    if route or subset_route then return method_not_allowed(subset_route, route) end
    return error_response(nil, 404)
  end
  if needs_auth(op) and not authorized(req.headers.authorization)
      and not match(req.headers.authorization or "", "^[Bb][Aa][Ss][Ii][Cc]%s+%S") then
    return error_response(op, 401)
  end
  return generic.serve(op, req, params)
end

local function route_api(req)
  local path = req.path
  if sub(path, 1, 4) ~= "/v2/" then return route_whole(req, "", path, nil) end
  local route, params = match_route(sub(path, 4))
  local op = route and route.ops[req.method]
  if not op then
    return route_whole(req, "/v2", sub(path, 4), route)
  end
  if not authorized(req.headers.authorization) then return error_response(nil, 401) end
  local handler = HANDLERS[op.kind] or ACTIONS[op.id]
  if not handler then return error_response(op, 500, "The mock has no handler for " .. tostring(op.id)) end
  return handler(op, req, params[1])
end

return {route_api = route_api}
