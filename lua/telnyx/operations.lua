-- The generated API table seen whole, for what walks every operation (help, completion,
-- scripts/export.lua, the specs): the index (telnyx.resources) names each resource and its
-- methods; an operation's entry lives in its top-level module (telnyx.api.<top>), loaded here
-- only when asked for. Calls never come through here: the C binding loads per resource.
local M = {}

local function index() return require("telnyx.resources").resources end

-- What an operation's body is when it comes whole, as params.body (raw bytes: "a string or a
-- telnyx.file"; a JSON array), or nil when params' fields make it. src/resource.c decides the same.
function M.whole_body(op)
  local body = op.body
  if type(body) ~= "table" then return nil end
  if body.content_type == "application/octet-stream" then return "raw bytes, a string or a telnyx.file" end
  if body.type == "array" then return "a JSON array" end
  return nil
end

-- The operation entry of resource.method (loading only its top-level module), or nil.
function M.find(resource, method)
  local r = index()[resource]
  if not r then return nil end
  for _, op in ipairs(require("telnyx.api." .. r.module).operations) do
    if op.resource == resource and op.method == method then return op end
  end
  return nil
end

-- { { name = "a.b", methods = { ... } }, ... } sorted by name: every resource and parent.
function M.resources()
  local list = {}
  for name, r in pairs(index()) do list[#list + 1] = { name = name, methods = r.methods } end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

-- Every operation, sorted by resource then method (loads every module: for tools, not calls).
function M.all()
  local ops, seen = {}, {}
  for _, r in ipairs(M.resources()) do
    local top = r.name:match("^[^.]+")
    if not seen[top] then
      seen[top] = true
      for _, op in ipairs(require("telnyx.api." .. top).operations) do ops[#ops + 1] = op end
    end
  end
  return ops
end

-- The long description of an operation (telnyx.doc.<top>, for help only), or nil.
function M.description(op)
  local ok, doc = pcall(require, "telnyx.doc." .. op.resource:match("^[^.]+"))
  return ok and type(doc) == "table" and doc[op.resource .. "." .. op.method] or nil
end

return M
