-- Answers made from the spec: a value for a schema (its example where it gives one, else one
-- made up per type, format and enum), the example of a response's media type, and bytes for
-- the media types that are not JSON (PDF, CSV, audio, images, octet-stream, text).

local util = require "mock.util"

local NULL, EMPTY_ARRAY, deep_copy = util.NULL, util.EMPTY_ARRAY, util.deep_copy

local rep, find, sub = string.rep, string.find, string.sub

-- Optional properties are made down to FULL_DEPTH, required ones down to MAX_DEPTH.
local FULL_DEPTH, MAX_DEPTH = 5, 16

local STRING_FORMATS = {
  ["date-time"] = "2025-01-01T00:00:00.000Z",
  date = "2025-01-01",
  time = "12:00:00",
  uuid = "4f6a5b3c-2d1e-4f0a-9b8c-7d6e5f4a3b2c",
  email = "user@example.com",
  uri = "https://example.com/resource",
  url = "https://example.com/resource",
  hostname = "example.com",
  ipv4 = "192.0.2.1",
  ipv6 = "2001:db8::1",
  binary = "mock",
  byte = "bW9jaw==",
  password = "mock-password",
}

local function first_type(t)
  if type(t) == "table" then
    for _, x in ipairs(t) do if x ~= "null" then return x end end
    return t[1]
  end
  return t
end

local value

local function string_value(s)
  local v = STRING_FORMATS[s.format] or "string"
  local min_len = math.tointeger(s.minLength) or 0
  if #v < min_len then v = v .. rep("x", min_len - #v) end
  local max_len = math.tointeger(s.maxLength)
  if max_len and #v > max_len then v = sub(v, 1, max_len) end
  return v
end

-- A value valid for `schema` (as far as a mock can tell). `api.deref` resolves $ref and
-- allOf; `open` holds the schemas being made, so a recursive schema stops at itself.
function value(api, schema, depth, open)
  local s = api.deref(schema)
  if type(s) ~= "table" then return NULL end
  if s.example ~= nil then return deep_copy(s.example) end
  if type(s.examples) == "table" and s.examples[1] ~= nil then return deep_copy(s.examples[1]) end
  if s.const ~= nil then return deep_copy(s.const) end
  if type(s.enum) == "table" then
    for _, x in ipairs(s.enum) do if x ~= NULL then return x end end
    return NULL
  end
  if s.default ~= nil then return deep_copy(s.default) end
  local alternatives = s.oneOf or s.anyOf
  if type(alternatives) == "table" and alternatives[1] ~= nil and not s.properties then
    for _, alt in ipairs(alternatives) do
      local a = api.deref(alt)
      if first_type(a.type) ~= "null" then return value(api, a, depth, open) end
    end
    return NULL
  end
  local t = first_type(s.type) or (s.properties and "object") or (s.items and "array")
  if t == "object" then
    if open[s] or depth >= MAX_DEPTH then return {} end
    open[s] = true
    local out = {}
    local required = {}
    for _, name in ipairs(s.required or {}) do required[name] = true end
    for name, ps in pairs(s.properties or {}) do
      if depth < FULL_DEPTH or required[name] then out[name] = value(api, ps, depth + 1, open) end
    end
    open[s] = nil
    return out
  elseif t == "array" then
    if open[s] or depth >= MAX_DEPTH or not s.items then return EMPTY_ARRAY end
    open[s] = true
    local item = value(api, s.items, depth + 1, open)
    open[s] = nil
    return {item}
  elseif t == "string" then return string_value(s)
  elseif t == "integer" then return math.tointeger(s.minimum) or 1
  elseif t == "number" then return s.minimum or 1.5
  elseif t == "boolean" then return true
  end
  return NULL
end

local function schema_value(api, schema)
  return value(api, schema, 0, {})
end

-- The example a media type object gives (`example`, else the first of `examples`), or nil.
local function media_example(api, media)
  if media.example ~= nil then return deep_copy(media.example) end
  if type(media.examples) == "table" then
    local names = {}
    for name in pairs(media.examples) do names[#names + 1] = name end
    table.sort(names)
    local ex = names[1] and api.deref(media.examples[names[1]])
    if type(ex) == "table" and ex.value ~= nil then return deep_copy(ex.value) end
  end
  return nil
end

-- Bytes standing for a document of a media type that is not JSON.
local WAV = "RIFF" .. string.pack("<I4", 36) .. "WAVEfmt " .. string.pack("<I4I2I2I4I4I2I2", 16, 1, 1, 8000, 16000, 2, 16)
  .. "data" .. string.pack("<I4", 0)
local BYTES = {
  ["application/pdf"] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n",
  ["text/csv"] = "id,record_type\n1,mock\n",
  ["audio/mpeg"] = "ID3\3\0\0\0\0\0\0" .. "\255\251\144\0" .. rep("\0", 28),
  ["audio/wav"] = WAV,
  ["image/png"] = "\137PNG\r\n\26\n" .. "\0\0\0\rIHDR\0\0\0\1\0\0\0\1\8\6\0\0\0\31\21\196\137",
  ["text/event-stream"] = "event: message\ndata: {}\n\n",
}

-- The content type to answer with for a declared media range ("*" or "*/*" as octet-stream).
local function concrete_type(media_type)
  if media_type == "*" or media_type == "*/*" then return "application/octet-stream" end
  return media_type
end

local function is_json_type(media_type)
  return media_type == "application/json" or find(media_type, "+json", 1, true) ~= nil
end

-- The body for a non-JSON media type: its example when it is a string, else stand-in bytes.
local function bytes_for(api, media_type, media)
  local ex = media and media_example(api, media)
  if type(ex) == "string" then return ex end
  local b = BYTES[media_type]
  if b then return b end
  if sub(media_type, 1, 5) == "text/" then return "mock" end
  return "\0\1\2\3mock-bytes"
end

return {schema_value = schema_value, media_example = media_example, bytes_for = bytes_for,
        concrete_type = concrete_type, is_json_type = is_json_type}
