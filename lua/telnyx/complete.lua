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

---------------------------------------------------------------------------
-- Parameter names inside a call's table: client.x:create{ip_<Tab>, list{filter = {ip_<Tab>
---------------------------------------------------------------------------

-- The open brackets of `line` (strings and comments skipped): {char, position} innermost last.
local function open_brackets(line)
  local stack, i, n = {}, 1, #line
  while i <= n do
    local c = line:sub(i, i)
    if c == '"' or c == "'" then
      local j = i + 1
      while j <= n and line:sub(j, j) ~= c do j = j + (line:sub(j, j) == "\\" and 2 or 1) end
      i = j
    elseif line:sub(i, i + 1) == "--" then
      return nil -- in a comment
    elseif c == "{" or c == "(" or c == "[" then
      stack[#stack + 1] = { c, i }
    elseif c == "}" or c == ")" or c == "]" then
      stack[#stack] = nil
    end
    i = i + 1
  end
  return stack
end

-- For `before` (the line up to the word being completed), the call whose table the cursor is
-- in, at a key position: "client.x", "create", {"filter"} (the keys of the enclosing tables).
local function call_context(before)
  if not before:match("[{,]%s*$") then return nil end
  local stack = open_brackets(before)
  if stack == nil or #stack == 0 or stack[#stack][1] ~= "{" then return nil end
  local keys = {}
  for k = #stack, 1, -1 do
    local kind, pos = stack[k][1], stack[k][2]
    local head = before:sub(1, pos - 1)
    if kind ~= "{" then return nil end
    local key = head:match("([%a_][%w_]*)%s*=%s*$")
    if key then
      table.insert(keys, 1, key)
      if k == 1 or stack[k - 1][1] ~= "{" then return nil end
    else
      -- the call's own table: obj:method{ or obj:method(..., {
      local obj, method = head:match("([%a_][%w_.]*):([%a_][%w_]*)%s*$")
      if obj == nil and k > 1 and stack[k - 1][1] == "(" and head:match("[(,]%s*$") then
        obj, method = before:sub(1, stack[k - 1][2] - 1):match("([%a_][%w_.]*):([%a_][%w_]*)%s*$")
      end
      if obj == nil then return nil end
      return obj, method, keys
    end
  end
  return nil
end

-- The names a params table takes at `keys` inside it, from the operation entry.
local function param_names(op, keys)
  local names = {}
  local function add_fields(fields, depth)
    for _, f in ipairs(fields or {}) do
      if depth == #keys then
        names[f.name] = true
      elseif f.name == keys[depth + 1] then
        add_fields(f.fields or (f.items and f.items.fields), depth + 1)
      end
    end
  end
  add_fields(op.body and op.body.fields, 0)
  -- query wire names: "filter[created_at][gt]" is filter = {created_at = {gt = ...}}
  for _, q in ipairs(op.query or {}) do
    local parts = { q.name:match("^([^%[]+)") }
    for inner in q.name:gmatch("%[([^%]]*)%]") do parts[#parts + 1] = inner end
    local match = #parts > #keys
    for d = 1, #keys do
      if parts[d] ~= keys[d] then match = false end
    end
    if match then names[parts[#keys + 1]] = true end
  end
  if #keys == 0 then
    for _, name in ipairs(op.path_params or {}) do
      if name ~= op.positional then names[name] = true end
    end
  end
  return names
end

-- Completions of a parameter name, or nil when the cursor is not at a key of a call's table.
local function complete_param(text, env, before)
  if not text:match("^[%a_]?[%w_]*$") then return nil end
  local obj, method, keys = call_context(before)
  if obj == nil then return nil end
  local v = env
  for part in obj:gmatch("[^.]+") do
    v = field(v, part)
    if v == nil then return nil end
  end
  local d = util.describe(v)
  if not (d and d.kind == "resource") then return nil end
  local fn = field(v, method)
  local md = fn and util.describe(fn)
  if not (md and md.kind == "method" and type(md.op) == "table") then return nil end
  local out = {}
  for name in pairs(param_names(md.op, keys)) do
    if util.is_identifier(name) and name:sub(1, #text) == text then out[#out + 1] = name end
  end
  table.sort(out)
  return out
end

-- complete(text [, env [, before]]) -> sorted array of full replacements for `text`, the word
-- before the cursor ("string.fo", "client.billing_groups:", "pri"). env is the globals table
-- (_G); before, the line up to that word, lets a call's table complete its parameter names.
function M.complete(text, env, before)
  env = env or _G
  if before then
    local params = complete_param(text, env, before)
    if params then return params end
  end
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
