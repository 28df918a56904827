-- The minimal valid arguments of a call, made from the operation's own entry of the generated
-- table (lua/telnyx/api/<top>.lua): its path parameters, required query parameters, required
-- body fields (made from their types, enums, formats, bounds and patterns, nested objects and
-- arrays included), file parts, required headers. Values pass the client's checker
-- (lua/telnyx/check.lua): a string is the field's example, its format's, or a stock one, the
-- first that fits its length and pattern. Also what each argument looks like on the wire, for
-- comparing with the mock's request log.
local telnyx = require "telnyx"
local check = require "telnyx.check"

local M = {}

local FORMAT = {
  ["date-time"] = "2025-01-01T00:00:00Z", date = "2025-01-01", time = "12:00:00",
  uuid = "4f6a5b3c-2d1e-4f0a-9b8c-7d6e5f4a3b2c", email = "user@example.com",
  uri = "https://example.com/x", url = "https://example.com/x", hostname = "example.com",
  ipv4 = "192.0.2.1", ipv6 = "2001:db8::1", byte = "bW9jaw==",
}
-- Tried in order when neither the example nor the format fits the pattern.
local STOCK = { "mock", "x", "en", "US", "12345", "482915", "+12025550100", "a-1" }

-- The first type word that is not null ("string|null" -> "string"); nil for "any".
local function type_of(p)
  local t = type(p.type) == "string" and p.type or ""
  if t:match("^array<") then return "array" end
  for word in t:gmatch("[^|]+") do
    if word ~= "null" and word ~= "any" then return word end
  end
  return nil
end

local function fits_string(p, s)
  local len = utf8.len(s) or #s
  if type(p.min_length) == "number" and len < p.min_length then return false end
  if type(p.max_length) == "number" and len > p.max_length then return false end
  return type(p.pattern) ~= "string" or check.pattern_matches(p.pattern, s) ~= false
end

local function string_value(p, where)
  local tries = {}
  if type(p.example) == "string" then tries[#tries + 1] = p.example end
  if type(p.default) == "string" then tries[#tries + 1] = p.default end
  if FORMAT[p.format] then tries[#tries + 1] = FORMAT[p.format] end
  for _, s in ipairs(STOCK) do tries[#tries + 1] = s end
  for _, s in ipairs(tries) do
    if type(p.min_length) == "number" and #s < p.min_length then s = s .. ("x"):rep(p.min_length - #s) end
    if fits_string(p, s) then return s end
  end
  error(where .. ": no stock string fits " .. tostring(p.pattern))
end

local function number_value(p, integer)
  local lo = p.minimum or (type(p.exclusive_minimum) == "number" and p.exclusive_minimum + 1) or nil
  local hi = p.maximum or (type(p.exclusive_maximum) == "number" and p.exclusive_maximum - 1) or nil
  local v = type(p.example) == "number" and p.example or lo or 1
  if (lo and v < lo) or (hi and v > hi) then v = lo or hi end
  if integer then v = math.tointeger(v) or math.tointeger(math.ceil(v)) end
  return v
end

-- A value valid for <param> p; `where` names it in errors.
function M.value(p, where)
  if type(p.enum) == "table" then
    for _, e in ipairs(p.enum) do
      if type(e) ~= "userdata" then return e end
    end
  end
  if p.format == "binary" then return telnyx.file { data = "\0\1mock-bytes", filename = "mock.bin" } end
  local t = type_of(p)
  if t == "string" or t == nil then return string_value(p, where) end
  if t == "integer" then return number_value(p, true) end
  if t == "number" then return number_value(p, false) end
  if t == "boolean" then return true end
  if t == "array" then
    local items = p.items or { type = p.type:match("^array<(.*)>$") or "string" }
    local out = {}
    for i = 1, math.max(1, p.min_items or 0) do out[i] = M.value(items, where .. "[]") end
    return telnyx.json.array(out)
  end
  if t == "object" then return M.object(p.fields, where) end
  return "mock"
end

-- The required fields of a field list, made up.
function M.object(fields, where)
  local out = {}
  for _, f in ipairs(fields or {}) do
    if f.required then out[f.name] = M.value(f, where .. "." .. f.name) end
  end
  return out
end

-- The call's arguments: { positional = string or nil, params = table or nil, headers = {name = value},
-- path = the path with its parameters, query = {wire name = value}, body = table or nil,
-- raw = the bytes of an octet-stream body }.
function M.call(op, tag)
  local where = op.resource .. ":" .. op.method
  local a = { params = {}, headers = {}, query = {}, path = op.path }
  for _, name in ipairs(op.path_params or {}) do
    -- one id per call: the mock answers 404 for an id an earlier call deleted
    local v = "p-" .. name:gsub("[^%w]", "-") .. (tag and "-" .. tag or "")
    if name == op.positional then a.positional = v else a.params[name] = v end
    a.path = a.path:gsub("{" .. name:gsub("%p", "%%%0") .. "}", v)
  end
  for _, q in ipairs(op.query or {}) do
    if q.required then
      a.query[q.name] = M.value(q, where .. " " .. q.name)
      a.params[q.name] = a.query[q.name]
    end
  end
  for _, h in ipairs(op.headers or {}) do
    if h.required then
      a.headers[h.name:lower()] = "mock-" .. h.name:lower()
      a.params[h.name] = a.headers[h.name:lower()]
    end
  end
  if op.body and op.body.content_type == "application/octet-stream" then
    a.raw = "\0\1raw bytes" -- the body's bytes, as params.body
    a.params.body = a.raw
  elseif op.body and op.body.type == "array" then -- a JSON array comes whole, as params.body
    a.body = M.value({ type = "array", items = op.body.items or { type = "string" },
                       min_items = op.body.min_items }, where .. " body")
    a.params.body = a.body
  elseif op.body then
    a.body = M.object(op.body.fields, where)
    for k, v in pairs(a.body) do a.params[k] = v end
  end
  if next(a.params) == nil then a.params = nil end
  return a
end

-- A query or form value as the wire carries it: {wire name = text}, nested tables as name[key],
-- arrays comma-joined (query) or as name[] parts (multipart, `parts`).
local function text(v)
  if type(v) == "boolean" then return v and "true" or "false" end
  if math.type(v) == "float" and v == math.floor(v) then return string.format("%d", v) end
  return tostring(v)
end

function M.flatten(name, v, out)
  if type(v) ~= "table" then
    out[name] = text(v)
  elseif v[1] ~= nil then
    local words = {}
    for i, x in ipairs(v) do words[i] = text(x) end
    out[name] = table.concat(words, ",")
  else
    for k, x in pairs(v) do M.flatten(name .. "[" .. k .. "]", x, out) end
  end
  return out
end

return M
