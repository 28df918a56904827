-- The API's routes, built from the OpenAPI file at start: each operation's kind (list, create,
-- retrieve, update, delete or action), parameters, body and success schemas; matching a path;
-- and the request and record helpers every handler uses.

local util = require "mock.util"
local schemas = require "mock.schema"
local resource_rules = require "mock.rules"
local store = require "mock.store"
local responses = require "mock.responses"
local state = require("mock.state").state

local JSON_TYPE, json_decode, percent_decode = util.JSON_TYPE, util.json_decode, util.percent_decode
local validate = schemas.validate
local RESOURCE_RULES = resource_rules.RESOURCE_RULES
local new_store, record_json = store.new_store, store.record_json
local error_response, json_response = responses.error_response, responses.json_response

local sort = table.sort
local format, sub, match, gmatch = string.format, string.sub, string.match, string.gmatch

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

return {build_api = build_api, match_route = match_route, decode_body = decode_body,
        record_response = record_response, find_record = find_record}
