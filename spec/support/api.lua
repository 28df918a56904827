-- The generated API table for the specs: every operation (telnyx.operations), and the 38
-- account-access ones (those of the vendored subset spec, which the mock serves), by HTTP
-- method and path.
local cjson = require "cjson"
local api = require "telnyx.operations"

local SUBSET = "scripts/build/telnyx-account-access.openapi.json"

local M = { find = api.find, resources = api.resources }

-- { ["GET /billing_groups"] = true, ... } for the subset spec's operations.
function M.subset_keys()
  local f = assert(io.open(SUBSET, "rb"))
  local doc = cjson.decode(f:read("a"))
  f:close()
  local keys = {}
  for path, item in pairs(doc.paths) do
    for verb in pairs(item) do
      if verb:match("^%l+$") and verb ~= "parameters" and verb ~= "servers" then
        keys[verb:upper() .. " " .. path] = true
      end
    end
  end
  return keys
end

-- The account-access operations of the generated table, sorted by resource then method. The
-- api/ files are read here, not required, so the specs' process does not keep the whole API.
function M.account_access()
  local keys, out, seen = M.subset_keys(), {}, {}
  for _, r in ipairs(api.resources()) do
    local top = r.name:match("^[^.]+")
    if not seen[top] then
      seen[top] = true
      local chunk = assert(loadfile("lua/telnyx/api/" .. top .. ".lua", "t", {}))
      for _, op in ipairs(chunk().operations) do
        if keys[op.http_method .. " " .. op.path] then out[#out + 1] = op end
      end
    end
  end
  return out
end

-- { { name =, methods = } } for the resources of the account-access operations, sorted.
function M.account_access_resources()
  local by, list = {}, {}
  for _, op in ipairs(M.account_access()) do
    if not by[op.resource] then
      by[op.resource] = { name = op.resource, methods = {} }
      list[#list + 1] = by[op.resource]
    end
    table.insert(by[op.resource].methods, op.method)
  end
  return list
end

-- Drops the API modules calls and help loaded (telnyx.api.*, telnyx.doc.*): specs that walk the
-- whole API leave nothing behind for later specs measuring their own memory.
function M.unload()
  for name in pairs(package.loaded) do
    if name:match("^telnyx%.api%.") or name:match("^telnyx%.doc%.") then package.loaded[name] = nil end
  end
  collectgarbage()
end

return M
