-- Checking a request against its operation in the whole spec: required headers, query
-- parameters (unknown ones, required ones, types, enums), the Content-Type against the
-- declared media types (415), and the body per media type: JSON against the schema (unknown
-- top-level fields where additionalProperties is false, required fields, types, enums),
-- form-encoded and multipart fields and file parts by name, octet-stream as it is. Each
-- problem is a Telnyx error naming the parameter (source.parameter) or field (source.pointer).

local util = require "mock.util"
local schemas = require "mock.schema"
local forms = require "mock.forms"
local responses = require "mock.responses"

local json_decode, NULL = util.json_decode, util.NULL
local enum_has, validate_value = schemas.enum_has, schemas.validate
local error_response = responses.error_response

local concat, sort = table.concat, table.sort
local format, match, lower = string.format, string.match, string.lower
local tointeger = math.tointeger

local function unprocessable(op, detail, source, title)
  return error_response(op, 422, detail, source, title)
end

local function enum_text(enum)
  local names = {}
  for _, x in ipairs(enum) do if x ~= NULL then names[#names + 1] = tostring(x) end end
  return concat(names, ", ")
end

-- A query value (always text) against a scalar schema: nil, or what is wrong.
local function check_scalar(name, raw, s)
  if type(s) ~= "table" then return nil end
  local t = s.type
  if type(t) == "table" then t = t[1] ~= "null" and t[1] or t[2] end
  if t == "integer" and not tointeger(tonumber(raw)) then return name .. " must be an integer" end
  if t == "number" and not tonumber(raw) then return name .. " must be a number" end
  if t == "boolean" and raw ~= "true" and raw ~= "false" then return name .. " must be true or false" end
  if type(s.enum) == "table" and t ~= "integer" and t ~= "number" and not enum_has(s.enum, raw) then
    return format("%s must be one of: %s", name, enum_text(s.enum))
  end
  return nil
end

-- The schema of `key` ("page[size]", "filter[status][eq]") for an operation, or false when
-- the operation has no such parameter (nil when it has one of no particular schema).
local function query_schema(op, d, key)
  local q = op.query[key]
  if q then return q.schema end
  if op.page_params[key] then return nil end
  local base, rest = match(key, "^([^%[]+)(%[.*)$")
  if not base then return false end
  -- "filter[a][b]" declared as such, or as "filter[a]" with an object schema
  local outer = match(key, "^(.-)%[[^%[%]]*%]$")
  while outer and outer ~= base do
    local p = op.query[outer]
    if p then return p.deep and nil or false end
    outer = match(outer, "^(.-)%[[^%[%]]*%]$")
  end
  local p = op.query[base]
  if not p then return false end
  -- deepObject: the first key inside must be a property, when the schema lists them
  local first = match(rest, "^%[([^%]]*)%]")
  local props = p.schema.properties
  if props and first and first ~= "" then
    local ps = props[first]
    if ps == nil then
      if p.schema.additionalProperties == false then return false end
      return nil
    end
    ps = d(ps)
    if match(rest, "^%[[^%]]*%]$") and not (ps.properties or ps.oneOf or ps.anyOf) then return ps end
  end
  return nil
end

local function check_query(op, req)
  local d = op.api.deref
  local q = req.query_params
  local keys = {}
  for key in pairs(q) do keys[#keys + 1] = key end
  sort(keys)
  for _, key in ipairs(keys) do
    local bare = match(key, "^(.-)%[%]$") or key   -- "ids[]=a&ids[]=b"
    local s = query_schema(op, d, bare)
    if s == false then
      return unprocessable(op, format("%s is not a query parameter of %s %s", key, op.method, op.template),
        {parameter = key}, "Invalid parameter")
    end
    local problem = check_scalar(key, q[key], s)
    if problem then return unprocessable(op, problem, {parameter = key}) end
  end
  for _, name in ipairs(op.required_query) do
    if q[name] == nil then
      local present = false
      for key in pairs(q) do if key:sub(1, #name + 1) == name .. "[" then present = true break end end
      if not present then
        return unprocessable(op, name .. " is required", {parameter = name}, "Missing required parameter")
      end
    end
  end
  return nil
end

local function check_headers(op, req)
  for _, name in ipairs(op.required_headers) do
    local v = req.headers[lower(name)]
    if v == nil or v == "" then
      return unprocessable(op, "the " .. name .. " header is required", {parameter = name},
        "Missing required parameter")
    end
  end
  return nil
end

-- Fields of a form or multipart body against the schema: required ones present, no unknown
-- ones where additionalProperties is false, scalar values of the right type and enum.
local function check_fields(op, d, schema, fields, files, partial)
  if type(schema) ~= "table" then return nil end
  local props = schema.properties or {}
  if not partial then
    for _, name in ipairs(schema.required or {}) do
      if fields[name] == nil and files[name] == nil then
        return unprocessable(op, name .. " is required", {pointer = "/" .. name}, "Missing required parameter")
      end
    end
  end
  local names = {}
  for name in pairs(fields) do names[#names + 1] = name end
  for name in pairs(files) do names[#names + 1] = name end
  sort(names)
  for _, name in ipairs(names) do
    local ps = props[name] or props[match(name, "^(.-)%[%]$") or ""]
    if ps == nil and schema.additionalProperties == false then
      return unprocessable(op, name .. " is not a field of this request body", {pointer = "/" .. name})
    end
    if ps and fields[name] ~= nil and type(fields[name]) == "string" then
      local s = d(ps)
      if not (s.type == "array" or s.type == "object") then
        local problem = check_scalar(name, fields[name], s)
        if problem then return unprocessable(op, problem, {pointer = "/" .. name}) end
      end
    end
  end
  return nil
end

-- The declared media type a request's Content-Type matches, or nil.
local function declared_type(body, mt)
  if body.content[mt] then return mt end
  if body.content["*/*"] then return "*/*" end
  if body.content["*"] then return "*" end
  local major = mt and match(mt, "^([^/]+)/")
  if major and body.content[major .. "/*"] then return major .. "/*" end
  return nil
end

-- Checks the body; returns the decoded body (a table for JSON and form bodies, the raw text
-- otherwise), or nil and an error answer.
local function check_body(op, req)
  local body = op.body
  local raw = req.body or ""
  if not body then return {} end
  local mt = forms.media_type(req.headers["content-type"])
  local empty = match(raw, "^%s*$") ~= nil
  if empty and (mt == nil or body.required == false) then
    if not body.required then return {} end
    if mt == nil then -- nothing sent at all, where the spec requires a body
      return nil, unprocessable(op, format("a request body is required (%s)", concat(body.types, " or ")),
        {pointer = "/"}, "Missing required parameter")
    end
  end
  local declared = declared_type(body, mt)
  if not declared then
    local resp = error_response(op, 415, format("Content-Type %s is not accepted by %s %s; send %s",
      mt or "(none)", op.method, op.template, concat(body.types, " or ")), {parameter = "Content-Type"},
      "Unsupported media type")
    return nil, resp
  end
  local d = op.api.deref
  local schema = d(body.content[declared].schema)
  local partial = op.method == "PATCH"
  if declared == "application/json" or match(declared, "%+json$") then
    local value = {}
    if not empty then
      local err
      value, err = json_decode(raw)
      if value == nil then
        return nil, error_response(op, 400, "The request body is not valid JSON: " .. err, {pointer = "/"})
      end
    end
    if type(schema) == "table" and schema.additionalProperties == false and schema.properties
        and type(value) == "table" then
      local names = {}
      for k in pairs(value) do if type(k) == "string" then names[#names + 1] = k end end
      sort(names)
      for _, k in ipairs(names) do
        if schema.properties[k] == nil then
          return nil, unprocessable(op, k .. " is not a field of this request body", {pointer = "/" .. k})
        end
      end
    end
    local problem = type(schema) == "table" and validate_value(op.api, value, schema, "", partial)
    if problem then
      return nil, unprocessable(op, problem.detail, {pointer = problem.pointer},
        problem.missing and "Missing required parameter" or nil)
    end
    return value
  elseif declared == "application/x-www-form-urlencoded" or declared == "multipart/form-data" then
    local parsed = forms.parsed(req)
    if not parsed then parsed = {fields = {}, parts = {}} end   -- an empty body of no type
    if parsed.error then return nil, error_response(op, 400, parsed.error, {parameter = "Content-Type"}) end
    local files = {}
    for _, p in ipairs(parsed.parts or {}) do if p.filename then files[p.name] = p end end
    local problem = check_fields(op, d, schema, parsed.fields, files, partial)
    if problem then return nil, problem end
    local out = {}
    for k, v in pairs(parsed.fields) do out[k] = v end
    return out
  end
  return raw
end

-- Everything about a request but its path: nil and the body, or an error answer.
local function check_request(op, req)
  local problem = check_headers(op, req) or check_query(op, req)
  if problem then return problem end
  local body, err = check_body(op, req)
  if err then return err end
  return nil, body
end

return {check_request = check_request}
