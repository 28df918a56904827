-- The one OpenAPI loader and $ref / allOf resolver, shared by scripts/build/gen-resources.lua
-- (which turns the spec into lua/telnyx/resources.lua) and the mock (scripts/mock/), so both
-- read the same document the same way.
--
-- A problem in the document is raised as a SpecError carrying the file and the JSON pointer
-- where it was found; the generator turns it into a warning for one operation, the mock into
-- an error message.
local cjson = require "cjson"

local M = {}

local SpecError = {}
SpecError.__index = SpecError
SpecError.__tostring = function(e) return e.file .. e.where .. ": " .. e.message end
M.SpecError = SpecError

local function tbl(v) return type(v) == "table" and v or nil end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

function M.fail(ctx, where, fmt, ...)
  error(setmetatable({ file = ctx.file, where = where, message = fmt:format(...) }, SpecError), 0)
end
local fail = M.fail

-- cjson cannot tell {} from []: an empty table counts as an array.
function M.json_type(v)
  if v == cjson.null then return "null" end
  if type(v) == "table" then return (next(v) == nil or v[1] ~= nil) and "array" or "object" end
  return type(v)
end
local json_type = M.json_type

-- A value for a message: strings quoted, anything else by its JSON type (never an address,
-- so messages are the same from run to run).
function M.show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return json_type(v)
end

-- JSON pointers (RFC 6901) as URI fragments: "#/paths/~1addresses~1{id}/get".
function M.child(ptr, ...)
  for i = 1, select("#", ...) do
    local key = tostring((select(i, ...)))
    ptr = ptr .. "/" .. key:gsub("~", "~0"):gsub("/", "~1")
  end
  return ptr
end
local child = M.child

-- The state of resolving one document: `file` names it in messages; results are cached per
-- $ref, so a schema used by hundreds of operations is merged once.
function M.context(doc, file)
  return { doc = doc, file = file or "spec", resolved = {} }
end

function M.lookup(ctx, ref, where)
  if type(ref) ~= "string" or ref:sub(1, 1) ~= "#" then
    fail(ctx, where, "unsupported $ref %s (only references into this file)", M.show(ref))
  end
  local node = ctx.doc
  for raw in ref:sub(2):gmatch("[^/]+") do
    local key = raw:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
                   :gsub("~1", "/"):gsub("~0", "~")
    if type(node) ~= "table" then node = nil; break end
    if node[key] == nil and key:match("^%d+$") then
      node = node[tonumber(key) + 1] -- JSON array index
    else
      node = node[key]
    end
  end
  if node == nil or node == cjson.null then
    fail(ctx, where, "$ref %s does not resolve", ref)
  end
  return node
end

local resolve

-- allOf: properties and required lists are united; for any other keyword the schema's own
-- value wins, then the parts in order.
local function merge_all_of(ctx, node, ptr, chain)
  local out = copy(node)
  out.allOf = nil
  out.properties = copy(tbl(node.properties) or {})
  local required, seen = {}, {}
  local function add_required(list)
    for _, name in ipairs(tbl(list) or {}) do
      if type(name) == "string" and not seen[name] then
        seen[name] = true
        required[#required + 1] = name
      end
    end
  end
  add_required(node.required)
  for i, part in ipairs(node.allOf) do
    local p = resolve(ctx, part, child(ptr, "allOf", i - 1), chain)
    for k, v in pairs(p) do
      if k == "properties" then
        for name, s in pairs(tbl(v) or {}) do
          if out.properties[name] == nil then out.properties[name] = s end
        end
      elseif k == "required" then
        add_required(v)
      elseif out[k] == nil then
        out[k] = v
      end
    end
  end
  out.required = required
  if out.type == nil and next(out.properties) then out.type = "object" end
  return out
end

-- Follows $ref (keywords beside a $ref override the target's, as OpenAPI 3.1 allows) and
-- merges allOf, so callers only ever see plain schema objects. Returns the schema and the
-- pointer it came from, for messages. `chain` holds the $refs being resolved, so a cycle
-- (A -> B -> A, or A: allOf [A]) is an error naming it, while a schema that only refers to
-- itself inside its properties (a tree) is fine: properties are resolved when visited.
function resolve(ctx, node, ptr, chain)
  if type(node) ~= "table" then
    fail(ctx, ptr, "expected an object, found %s", json_type(node))
  end
  local ref = node["$ref"]
  if ref ~= nil then
    local hit = type(ref) == "string" and ctx.resolved[ref]
    if not hit then
      local target_node = M.lookup(ctx, ref, ptr)
      chain = chain or {}
      if chain[ref] then fail(ctx, ptr, "circular $ref %s", ref) end
      chain[ref] = true
      hit = { resolve(ctx, target_node, ref, chain) }
      chain[ref] = nil
      ctx.resolved[ref] = hit
    end
    local target, tptr = hit[1], hit[2]
    local merged
    for k, v in pairs(node) do
      if k ~= "$ref" then
        merged = merged or copy(target) -- copy only when there is something to override
        merged[k] = v
      end
    end
    return merged or target, tptr
  end
  if type(node.allOf) == "table" and node.allOf[1] ~= nil then
    return merge_all_of(ctx, node, ptr, chain), ptr
  end
  return node, ptr
end
M.resolve = resolve

-- For callers that meet schemas one at a time, many times over (the mock, per request): a
-- function from any value to its resolved form (non-tables as they are), cached per node; a
-- problem is raised as its message.
function M.resolver(ctx)
  local cache = setmetatable({}, { __mode = "k" })
  return function(node)
    if type(node) ~= "table" then return node end
    local hit = cache[node]
    if hit then return hit end
    local ok, out = pcall(resolve, ctx, node, "#")
    if not ok then error(tostring(out), 0) end
    cache[node] = out
    return out
  end
end

function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end

-- Reads and decodes an OpenAPI JSON file. Returns the document, or nil and a message naming
-- the file.
function M.load(path)
  local data, err = M.read_file(path)
  if not data then return nil, "cannot read the OpenAPI file: " .. err end
  local ok, doc = pcall(cjson.decode, data)
  if not ok then return nil, path .. ": not valid JSON: " .. tostring(doc) end
  return doc
end

return M
