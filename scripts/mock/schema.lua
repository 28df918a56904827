-- The mock's view of the OpenAPI document: loading it, and checking a decoded request body
-- against a schema (types, enums, bounds, required fields).

local openapi = require "build.openapi"
local util = require "mock.util"

local NULL, EMPTY_ARRAY, is_array, scalar_text =
  util.NULL, util.EMPTY_ARRAY, util.is_array, util.scalar_text

local concat = table.concat
local format, match = string.format, string.match

-- The API document, and a resolver for its $ref and allOf (scripts/build/openapi.lua, the one
-- the generator uses too).
local function load_api(path)
  local doc, err = openapi.load(path)
  if not doc then error(err, 0) end
  if type(doc) ~= "table" or type(doc.paths) ~= "table" then
    error("not an OpenAPI document: " .. path, 0)
  end
  return {doc = doc, deref = openapi.resolver(openapi.context(doc, path))}
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

return {load_api = load_api, type_set = type_set, enum_has = enum_has, validate = validate, normalize = normalize}
