-- help(): text about the module, a client, a resource, a method, a pager or an error, built
-- from the generated resource table (lua/telnyx/resources.lua, loaded on first use).

local telnyx = require "telnyx"
local printer = require "telnyx.printer"
local util = require "telnyx.util"

local M = {}

local wrap = printer.wrap

-- The spec's descriptions carry a little HTML; help shows plain text.
local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', nbsp = " " }
local function plain(text)
  text = tostring(text or "")
  text = text:gsub("<li>", " - "):gsub("<[^>]*>", " ")
  text = text:gsub("&(%a+);", function(e) return ENTITIES[e] end)
  return (text:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

local function truncate(text, width)
  if printer.visible_len(text) <= width then return text end
  return text:sub(1, math.max(width - 3, 1)) .. "..."
end

local function pad_right(s, n) return s .. string.rep(" ", n - #s) end

---------------------------------------------------------------------------
-- Help from the generated resource table
---------------------------------------------------------------------------

local resources -- the generated table, loaded on first use
local function spec()
  resources = resources or require "telnyx.resources"
  return resources
end

local function find_op(resource, method)
  for _, op in ipairs(spec().operations) do
    if op.resource == resource and op.method == method then return op end
  end
  return nil
end

local function resource_entry(name)
  for _, r in ipairs(spec().resources) do
    if r.name == name then return r end
  end
  return nil
end

-- Child resources of `name` ("addresses" -> {"addresses.actions"}).
local function children_of(name)
  local out = {}
  for _, r in ipairs(spec().resources) do
    if r.name:sub(1, #name + 1) == name .. "." and not r.name:find(".", #name + 2, true) then
      out[#out + 1] = r.name
    end
  end
  return out
end

local function first_type(t) return (tostring(t or "any"):match("^[^|]+")) end

-- A value for the example call: the spec's example, else a placeholder of the right type.
local function example_value(field)
  if field.example ~= nil and type(field.example) ~= "table" then return field.example end
  local t = first_type(field.type)
  if t == "integer" or t == "number" then return field.default or field.minimum or 1 end
  if t == "boolean" then return true end
  if t == "object" then return {} end
  if t:match("^array") then return setmetatable({}, getmetatable(telnyx.json.decode("[]"))) end
  return "..."
end

local function lua_literal(v)
  if type(v) == "string" then return printer.quote(v) end
  if type(v) == "table" then return printer.format(v, { width = math.huge }) end
  return tostring(v)
end

-- The params table of the example: the required body fields, else the first one.
local function example_params(op)
  local fields = op.body and op.body.fields or {}
  local chosen = {}
  for _, f in ipairs(fields) do
    if f.required then chosen[#chosen + 1] = f end
  end
  if #chosen == 0 and fields[1] then chosen[1] = fields[1] end
  if #chosen == 0 then return nil end
  local parts = {}
  for _, f in ipairs(chosen) do
    parts[#parts + 1] = printer.key_text(f.name) .. " = " .. lua_literal(example_value(f))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function call_prefix(op) return "client." .. op.resource .. ":" .. op.method end

-- Example lines for one operation, built from its shape (path id, body, pagination).
local function example_calls(op)
  local prefix = call_prefix(op)
  if op.paginated then
    return { "for item in " .. prefix .. "() do print(item.id) end",
             prefix .. "{page = {size = 50}}:collect(10)" }
  end
  local params = example_params(op)
  if op.path_param then
    if params then return { prefix .. '("<' .. op.path_param .. '>", ' .. params .. ")" } end
    return { prefix .. '("<' .. op.path_param .. '>")' }
  end
  if params then return { prefix .. params } end
  return { prefix .. "()" }
end

-- "(id, params [, opts])", the argument shapes client.c accepts for this operation.
local function signature(op)
  local required, optional = {}, {}
  if op.path_param then required[#required + 1] = op.path_param end
  local takes_params = op.body ~= nil or op.paginated or (op.query and #op.query > 0)
  if takes_params then
    if op.body and not op.body.optional then
      required[#required + 1] = "params"
    else
      optional[#optional + 1] = "params"
    end
  end
  optional[#optional + 1] = "opts"
  local text = table.concat(required, ", ")
  local tail = ""
  for i = #optional, 1, -1 do
    local sep = (i == 1 and text == "") and "" or ", "
    tail = "[" .. sep .. optional[i] .. (tail ~= "" and " " .. tail or "") .. "]"
  end
  return "(" .. text .. (text ~= "" and " " or "") .. tail .. ")"
end

local function returns_text(op)
  if op.paginated then
    return "a telnyx.Pager: iterate it (for item in pager do ... end), pager:pages(), pager:collect([limit])"
  end
  if (op.accept or ""):match("^text/") then return "the response body, a string" end
  for _, s in ipairs(op.success or {}) do
    if s == 204 then return "nil (the API answers with no body)" end
  end
  return op.wrapped and "the decoded body, {data = ...}" or "the decoded body"
end

local function constraint_text(p)
  local bits = { first_type(p.type) == p.type and p.type or tostring(p.type) }
  if p.format then bits[1] = bits[1] .. " (" .. p.format .. ")" end
  bits[#bits + 1] = p.required and "required" or "optional"
  if p.default ~= nil then bits[#bits + 1] = "default " .. lua_literal(p.default) end
  if p.minimum ~= nil then bits[#bits + 1] = "min " .. tostring(p.minimum) end
  if p.maximum ~= nil then bits[#bits + 1] = "max " .. tostring(p.maximum) end
  return table.concat(bits, ", ")
end

-- One parameter: name (type, required|optional, default ...) then its wrapped description.
local function param_lines(p, width, out)
  local head = "  " .. p.name .. "  (" .. constraint_text(p) .. ")"
  out[#out + 1] = printer.visible_len(head) <= width and head or wrap(head, width, "", "      ")
  local about = plain(p.description)
  if p.enum then
    local values = {}
    for i, e in ipairs(p.enum) do values[i] = lua_literal(e) end
    about = about .. (about ~= "" and " " or "") .. "One of: " .. table.concat(values, ", ") .. "."
  end
  if p.example ~= nil and type(p.example) ~= "table" then
    about = about .. (about ~= "" and " " or "") .. "Example: " .. lua_literal(p.example) .. "."
  end
  if about ~= "" then out[#out + 1] = wrap(about, width, "      ", "      ") end
end

-- Required first, then the rest, each group in the spec's order.
local function by_requiredness(list)
  local req, opt = {}, {}
  for _, p in ipairs(list or {}) do
    if p.required then req[#req + 1] = p else opt[#opt + 1] = p end
  end
  for _, p in ipairs(opt) do req[#req + 1] = p end
  return req
end

local function help_method(op, width)
  local out = {}
  out[#out + 1] = call_prefix(op) .. signature(op)
  out[#out + 1] = "  " .. op.http_method .. " " .. op.path
  if op.summary then out[#out + 1] = wrap(plain(op.summary), width, "  ", "  ") end
  if op.description and plain(op.description) ~= plain(op.summary) then
    out[#out + 1] = wrap(plain(op.description), width, "  ", "  ")
  end
  out[#out + 1] = wrap("Returns " .. returns_text(op) .. ".", width, "  ", "  ")
  if op.path_param then
    out[#out + 1] = ""
    out[#out + 1] = "Arguments:"
    out[#out + 1] = "  " .. op.path_param .. "  (string, required)"
    out[#out + 1] = "      The {" .. op.path_param .. "} in the path."
  end
  if op.body and op.body.fields and #op.body.fields > 0 then
    out[#out + 1] = ""
    out[#out + 1] = string.format("Body fields (params, a table%s):",
                                  op.body.optional and ", optional" or "")
    for _, p in ipairs(by_requiredness(op.body.fields)) do param_lines(p, width, out) end
  end
  if op.query and #op.query > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "Query parameters (params; page[size] may also be written {page = {size = N}}):"
    for _, p in ipairs(by_requiredness(op.query)) do param_lines(p, width, out) end
  end
  out[#out + 1] = ""
  out[#out + 1] = "Example:"
  for _, line in ipairs(example_calls(op)) do out[#out + 1] = "  " .. line end
  out[#out + 1] = wrap("(a last opts table {timeout =, max_retries =, headers =} applies to " ..
    "one call)", width, "  ", "  ")
  return out
end

local function method_row(op, width, method_w, path_w)
  local line = "  " .. pad_right(op.method, method_w + 2) .. pad_right(op.http_method, 7) ..
    pad_right(op.path, path_w + 2) .. plain(op.summary)
  return truncate(line, width)
end

local function help_resource(name, width)
  local out = {}
  local entry = resource_entry(name)
  out[#out + 1] = "client." .. name .. "  (telnyx.Resource)"
  out[#out + 1] = "Methods (call with ':', e.g. client." .. name .. ":" ..
    (entry and entry.methods[1] or "list") .. "(...)):"
  local ops, method_w, path_w = {}, 0, 0
  for _, method in ipairs(entry and entry.methods or {}) do
    local op = find_op(name, method)
    if op then
      ops[#ops + 1] = op
      method_w, path_w = math.max(method_w, #op.method), math.max(path_w, #op.path)
    end
  end
  for _, op in ipairs(ops) do out[#out + 1] = method_row(op, width, method_w, path_w) end
  local kids = children_of(name)
  if #kids > 0 then
    out[#out + 1] = "Sub-resources:"
    for _, kid in ipairs(kids) do
      local e = resource_entry(kid)
      out[#out + 1] = "  client." .. kid .. "  (" .. table.concat(e.methods, ", ") .. ")"
    end
  end
  out[#out + 1] = "help(client." .. name .. "." .. (entry and entry.methods[1] or "list") ..
    ") shows one method's parameters and an example."
  return out
end

local function help_client(d, width)
  local out = {}
  out[#out + 1] = "telnyx.Client talking to " .. tostring(d.base_url)
  out[#out + 1] = "Resources (help(client.<name>) for their methods):"
  for _, r in ipairs(spec().resources) do
    local line = "  " .. pad_right(r.name, 34) .. table.concat(r.methods, " ")
    out[#out + 1] = truncate(line, width)
  end
  out[#out + 1] = wrap("Also: client:request(method, path [, {query =, body =, headers =, " ..
    "timeout =}]) for any endpoint, client:close().", width, "", "  ")
  return out
end

-- What each field of the module is for; fields not listed still show, by type.
local MODULE_FIELDS = {
  new = { "telnyx.new{api_key =, base_url =, timeout =, max_retries =, headers =}",
          "A client; api_key defaults to env TELNYX_API_KEY, base_url to TELNYX_BASE_URL." },
  map = { "telnyx.map(items, fn, {concurrency = 8, progress = true})",
          "Bulk work: fn(item, i) for each item, requests in parallel; returns results, failures." },
  is_error = { "telnyx.is_error(v [, type])", "True for an API error object (of that type)." },
  describe = { "telnyx.describe(v)", "What a client, resource or method is (help uses it)." },
  null = { "telnyx.null", "JSON null." },
  json = { "telnyx.json.encode(v), telnyx.json.decode(s)", "JSON, with null and [] kept." },
  VERSION = { "telnyx.VERSION", "The module's version." },
}

local function help_module(width)
  local out = {}
  out[#out + 1] = "telnyx " .. tostring(telnyx.VERSION) .. ": a client for the Telnyx API."
  for _, k in ipairs(util.sorted_keys(telnyx)) do
    if not util.is_internal(k) then
      local entry = MODULE_FIELDS[k] or { "telnyx." .. k, "A " .. type(telnyx[k]) .. "." }
      out[#out + 1] = "  " .. entry[1]
      out[#out + 1] = wrap(entry[2], width, "      ", "      ")
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "In the REPL:"
  out[#out + 1] = "  help(client)                         the resources and their methods"
  out[#out + 1] = "  help(client.billing_groups)          one resource's methods"
  out[#out + 1] = "  help(client.billing_groups.create)   one method: path, parameters, example"
  out[#out + 1] = "  =expr or a bare expression           shows the value; Tab completes names"
  out[#out + 1] = "  require(\"telnyx.repl\").format(v)     the same pretty printing, as a string"
  return out
end

local function help_pager(p, width)
  local out = { tostring(p) }
  local ok, info = pcall(function() return p:info() end)
  if ok and type(info) == "table" then
    out[#out + 1] = "  pager:info() = " .. printer.format(info, { width = width - 2 }):gsub("\n", "\n  ")
  end
  out[#out + 1] = "  for item in pager do ... end     every item, fetching pages as needed"
  out[#out + 1] = "  for page in pager:pages() do ... end"
  out[#out + 1] = "  pager:collect([limit])           an array of up to limit items"
  out[#out + 1] = "  pager:info(), pager:close()"
  return out
end

local function help_error(e, width)
  local out = { wrap(tostring(e), width, "", "  ") }
  out[#out + 1] = "An API error object: fields type, status, message, errors, headers, request_id, method, url."
  out[#out + 1] = "telnyx.is_error(e, \"" .. tostring(rawget(e, "type")) .. "\") is true for it."
  return out
end

-- "billing_groups", "billing_groups.create" or "addresses.actions.validate" as text.
local function help_name(name, width)
  name = name:gsub("^client%.", ""):gsub(":", ".")
  if resource_entry(name) then return help_resource(name, width) end
  local res, method = name:match("^(.*)%.([%w_]+)$")
  local op = res and find_op(res, method)
  if op then return help_method(op, width) end
  return nil
end

local function help_other(x, width)
  local tx = type(x)
  if tx == "table" then
    local keys = {}
    local n, rest = printer.split_keys(x)
    for _, k in ipairs(rest) do keys[#keys + 1] = printer.key_text(k) end
    local out = { string.format("a table: %d array item%s, %d other key%s", n, n == 1 and "" or "s",
                                #rest, #rest == 1 and "" or "s") }
    if #keys > 0 then out[#out + 1] = wrap(table.concat(keys, " "), width, "  ", "  ") end
    return out
  end
  return { "a " .. tx .. ": " .. printer.format(x, { width = width }) ..
    "  (help() lists what the telnyx module offers)" }
end

-- help_text(x [, opts]) -> text ending in a newline; x is telnyx for the module overview.
-- opts.width wraps long descriptions (default COLUMNS or 80).
function M.help_text(x, opts)
  opts = opts or {}
  local width = opts.width or util.terminal_width()
  local out
  if x == telnyx then
    out = help_module(width)
  elseif x == nil then
    out = { "nil: nothing to describe (help() shows what the telnyx module offers)." }
  elseif type(x) == "string" then
    out = help_name(x, width)
      or { "no resource or method named " .. printer.quote(x) .. "; help(client) lists them." }
  elseif util.type_name(x) == "telnyx.Pager" then
    out = help_pager(x, width)
  elseif type(x) == "table" and telnyx.is_error(x) then
    out = help_error(x, width)
  else
    local d = util.describe(x)
    if d and d.kind == "client" then
      out = help_client(d, width)
    elseif d and d.kind == "resource" then
      out = help_resource(d.name, width)
    elseif d and d.kind == "method" then
      local op = find_op(d.op.resource, d.op.method) or d.op
      out = help_method(op, width)
    else
      out = help_other(x, width)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- help(x) for scripts: writes the text, returns nothing.
function M.help(...)
  local x = select("#", ...) == 0 and telnyx or (...)
  io.stdout:write(M.help_text(x))
  io.stdout:flush()
end

return M
