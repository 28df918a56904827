-- Tab completion for the REPL: the names a value offers, found without calling user code or
-- making requests.

local telnyx = require "telnyx"
local util = require "telnyx.util"

local M = {}


local MAX_INDEX_CHAIN = 8
local CLIENT_METHODS = { "request", "close" }

-- Follows table __index chains (never __index functions, which could run anything).
local function index_tables(v)
  local out, seen = {}, {}
  local mt = getmetatable(v)
  for _ = 1, MAX_INDEX_CHAIN do
    if type(mt) ~= "table" then break end
    local idx = rawget(mt, "__index")
    if type(idx) ~= "table" or seen[idx] then break end
    seen[idx] = true
    out[#out + 1] = idx
    mt = getmetatable(idx)
  end
  return out
end

-- name -> value of every identifier key in t and in its __index tables.
local function table_fields(t, fields)
  local sources = { t }
  for _, idx in ipairs(index_tables(t)) do sources[#sources + 1] = idx end
  for _, src in ipairs(sources) do
    for k, v in next, src do
      if util.is_identifier(k) and fields[k] == nil then fields[k] = v end
    end
  end
  return fields
end

-- name -> true (a method) or false (a field) for what `v` offers after '.' or ':'.
local function offered(v)
  local out = {}
  local tv = type(v)
  if tv == "table" then
    for k, fv in pairs(table_fields(v, {})) do
      if not (v == telnyx and util.is_internal(k)) then out[k] = type(fv) == "function" end
    end
    return out
  end
  local d = (tv == "userdata") and util.describe(v) or nil
  if d and d.kind == "client" then
    for name in pairs(d.resources or {}) do
      if not name:find(".", 1, true) then out[name] = false end
    end
    for _, m in ipairs(CLIENT_METHODS) do
      local ok, fv = pcall(function() return v[m] end)
      if ok and type(fv) == "function" then out[m] = true end
    end
    return out
  end
  if d and d.kind == "resource" then
    for name in pairs(d.children or {}) do out[name] = false end
    for name in pairs(d.methods or {}) do out[name] = true end
    return out
  end
  if tv == "userdata" or tv == "string" then
    for _, idx in ipairs(index_tables(v)) do
      for k, fv in pairs(table_fields(idx, {})) do out[k] = type(fv) == "function" end
    end
  end
  return out
end

-- v.name without running __index functions, except the telnyx ones (pure getters).
local function field(v, name)
  if type(v) == "table" then
    local x = rawget(v, name)
    if x ~= nil then return x end
    for _, idx in ipairs(index_tables(v)) do
      x = rawget(idx, name)
      if x ~= nil then return x end
    end
    return nil
  end
  if type(v) == "userdata" then
    local d = util.describe(v)
    if d and (d.kind == "client" or d.kind == "resource") then
      local ok, x = pcall(function() return v[name] end)
      return ok and x or nil
    end
    for _, idx in ipairs(index_tables(v)) do
      local x = rawget(idx, name)
      if x ~= nil then return x end
    end
  end
  return nil
end

-- complete(text [, env]) -> sorted array of full replacements for `text`, the word before the
-- cursor ("string.fo", "client.billing_groups:", "pri"). env is the globals table (_G).
function M.complete(text, env)
  env = env or _G
  local prefix, sep, partial = text:match("^(.*)([.:])([%w_]*)$")
  local names = {}
  if prefix == nil then
    if not text:match("^[%a_]?[%w_]*$") then return {} end
    partial, prefix, sep = text, "", ""
    for k in pairs(table_fields(env, {})) do names[k] = true end
    for _, k in ipairs(util.KEYWORDS) do names[k] = true end
  else
    local v = env
    for part in (prefix .. "."):gmatch("(.-)%.") do
      if not util.is_identifier(part) then return {} end
      v = field(v, part)
      if v == nil then return {} end
    end
    for k, is_method in pairs(offered(v)) do
      if sep == "." or is_method then names[k] = true end
    end
  end
  local out = {}
  for k in pairs(names) do
    if k:sub(1, #partial) == partial then out[#out + 1] = prefix .. sep .. k end
  end
  table.sort(out)
  return out
end

return M
