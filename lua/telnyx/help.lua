-- help(): text about the module, a client, a resource, a method, a pager or an error, built
-- from the generated resource table (lua/telnyx/resources.lua, loaded on first use).

local telnyx = require "telnyx"
local printer = require "telnyx.printer"
local util = require "telnyx.util"

local M = {}

-- (telnyx.operations only when an operation's help is built)
local function whole_body(op) return require("telnyx.operations").whole_body(op) end

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
-- The generated API table, read through this accessor only (both layouts: the old single file
-- with `operations`, and the index `resources[name] = {module =, methods =}` whose operations
-- live in lua/telnyx/api/<module>.lua, see scripts/build/TABLE.md). Nothing is loaded until help is asked.
---------------------------------------------------------------------------

local index        -- require "telnyx.resources", on first use
local by_name      -- "resource.method" -> op, filled per module as it is loaded
local loaded_mods = {}

local function api()
  if index == nil then
    index = require "telnyx.resources"
    by_name = {}
    if index.operations then
      for _, op in ipairs(index.operations) do by_name[op.resource .. "." .. op.method] = op end
    end
  end
  return index
end

-- The index's entry of one resource: {methods = {...}, module = ...} or nil.
local function resource_entry(name)
  local res = api().resources
  if res[name] then return res[name] end
  for _, r in ipairs(res) do
    if r.name == name then return r end
  end
  return nil
end

-- Every resource name, sorted.
function M.resource_names()
  local names = {}
  local res = api().resources
  for k, r in pairs(res) do names[#names + 1] = type(k) == "string" and k or r.name end
  table.sort(names)
  return names
end

-- The methods of a resource (sorted), or nil when there is no such resource.
function M.methods_of(name)
  local e = resource_entry(name)
  return e and e.methods or nil
end

-- The operation entry of resource.method, or nil.
function M.operation(resource, method)
  api()
  local key = resource .. "." .. method
  if by_name[key] == nil then
    local e = resource_entry(resource)
    local mod = e and e.module
    if mod and not loaded_mods[mod] then
      loaded_mods[mod] = true
      local ok, t = pcall(require, "telnyx.api." .. mod)
      for _, op in ipairs(ok and type(t) == "table" and t.operations or {}) do
        by_name[op.resource .. "." .. op.method] = op
      end
    end
  end
  return by_name[key]
end

-- Operations the table lists as not bound ({resource =, method =, reason =, ...}).
function M.unbound() return api().unbound or {} end

-- Child resources of `name` ("addresses" -> {"addresses.actions"}).
local function children_of(name)
  local out = {}
  for _, r in ipairs(M.resource_names()) do
    if r:sub(1, #name + 1) == name .. "." and not r:find(".", #name + 2, true) then
      out[#out + 1] = r
    end
  end
  return out
end

-- What differs between the two layouts of an entry, read in one place.
local function positional(op) return op.positional end
local function paginated(op) return op.pagination ~= nil end
local function response_kind(op)
  if op.response then return op.response end
  if (op.accept or ""):match("^text/") then return "text" end
  for _, s in ipairs(op.success or {}) do
    if s == 204 then return "none" end
  end
  return "json"
end
-- Path parameters other than the positional one: given in params.
local function named_path_params(op)
  local out, pos = {}, positional(op)
  for _, p in ipairs(op.path_params or {}) do
    if p ~= pos then out[#out + 1] = p end
  end
  return out
end

local function first_type(t) return (tostring(t or "any"):match("^[^|]+")) end

-- A value for the example call: the spec's example, else a placeholder of the right type.
local function example_value(field)
  if field.example ~= nil and type(field.example) ~= "table" then return field.example end
  if field.enum and field.enum[1] ~= nil then return field.enum[1] end
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
  for _, name in ipairs(named_path_params(op)) do
    chosen[#chosen + 1] = { name = name, type = "string" }
  end
  local whole = whole_body(op)
  if #chosen == 0 and not whole then return nil end
  local parts = {}
  for _, f in ipairs(chosen) do
    parts[#parts + 1] = printer.key_text(f.name) .. " = " .. lua_literal(example_value(f))
  end
  if whole then parts[#parts + 1] = op.body.type == "array" and 'body = {"..."}' or 'body = "<bytes>"' end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function call_prefix(op) return "client." .. op.resource .. ":" .. op.method end

-- Example lines for one operation, built from its shape (path id, body, pagination).
-- Where a list's items are in each page, by its pagination kind.
local function items_of(op)
  local kind = require("telnyx.pagination")[op.pagination or "DefaultFlatPagination"]
  if kind == nil or kind.items == nil then return "of each page's data array" end
  if kind.items == false then return "of each page (the body is the array)" end
  return "of each page's " .. kind.items .. " array"
end

local function example_calls(op)
  local prefix = call_prefix(op)
  if paginated(op) then
    return { "for item in " .. prefix .. "() do print(item.id) end",
             prefix .. "{page = {size = 50}}:collect(10)" }
  end
  local params = example_params(op)
  local pos = positional(op)
  if pos then
    if params then return { prefix .. '("<' .. pos .. '>", ' .. params .. ")" } end
    return { prefix .. '("<' .. pos .. '>")' }
  end
  if params then return { prefix .. params } end
  return { prefix .. "()" }
end

-- As the binding decides (src/resource.c): no params slot only when nothing could go in it.
local function takes_params(op)
  return op.body ~= nil or paginated(op) or (op.query and #op.query > 0)
    or (op.headers and #op.headers > 0) or #named_path_params(op) > 0
end

-- Whether a call must give params: the binding refuses an empty one when a body field, query
-- parameter or header is required, or a path parameter other than the positional one exists.
local function params_required(op)
  if #named_path_params(op) > 0 then return true end
  if op.body and type(op.body.required) == "table" and #op.body.required > 0 then return true end
  if whole_body(op) and op.body.optional == false then return true end
  for _, list in ipairs({ op.body and op.body.fields or {}, op.query or {}, op.headers or {} }) do
    for _, p in ipairs(list) do
      if p.required then return true end
    end
  end
  return false
end

-- "(id, params [, opts])", the argument shapes the binding accepts for this operation.
local function signature(op)
  local required, optional = {}, {}
  if positional(op) then required[#required + 1] = positional(op) end
  if takes_params(op) then
    if params_required(op) then
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

-- The safe way to delete what a list returns: lines of Lua for this resource.
local function delete_safely(op)
  local has_delete = false
  for _, m in ipairs(M.methods_of(op.resource) or {}) do
    if m == "delete" then has_delete = true end
  end
  local ids = "local ids = " .. call_prefix(op) .. "{...}:ids()"
  if has_delete then
    return { ids, "for _, id in ipairs(ids) do client." .. op.resource .. ":delete(id) end" }
  end
  return { ids, "-- then change each id" }
end

-- The return shape: {paragraph, ...} and, for lists, code lines for deleting safely.
local function returns_text(op)
  if paginated(op) then
    return {
      "Returns a telnyx.Pager" .. (op.pagination and " (" .. op.pagination .. ")" or "") ..
        " over the " .. op.resource .. " records " .. items_of(op) .. " (each item a " ..
        "table); nothing is fetched until it is used. for item in pager do ... end walks every " ..
        "page, pager:collect([limit]) gives an array, pager:pages() each page as the API sent it.",
      "Changing the collection while paging it (deleting or adding items) shifts the later " ..
        "pages, so items are skipped. To delete safely, take the ids first with pager:ids(), " ..
        "which reads every page before it returns (and holds one id an item), then delete:",
    }, delete_safely(op)
  end
  local kind, text = response_kind(op), nil
  if kind == "none" then
    text = "Returns nil (the API answers with no content)."
  elseif kind == "text" then
    text = "Returns the response body as a string (" .. tostring(op.accept or "text") .. ", not JSON) " ..
      "and its content type; with opts.output = path, writes it there and returns path, bytes."
  elseif kind == "binary" then
    text = "Returns the response body as a string of bytes (" .. tostring(op.accept or "binary") .. ") " ..
      "and its content type; with opts.output = path, writes it there and returns path, bytes."
  elseif op.wrapped then
    text = "Returns the decoded JSON body, wrapped: {data = <record>} (read result.data.id); " ..
      "a JSON null field reads as nil."
  else
    text = "Returns the decoded JSON body, the bare record with no data wrapper (read " ..
      "result.id); a JSON null field reads as nil."
  end
  return { text }, {}
end

local function constraint_text(p)
  local bits = { tostring(p.type or "any") }
  if p.items and p.items.type then bits[1] = bits[1] .. " of " .. tostring(p.items.type) end
  if p.format then bits[1] = bits[1] .. " (" .. p.format .. ")" end
  bits[#bits + 1] = p.required and "required" or "optional"
  if p.deprecated then bits[#bits + 1] = "deprecated" end
  if p.default ~= nil then bits[#bits + 1] = "default " .. lua_literal(p.default) end
  if p.minimum ~= nil then bits[#bits + 1] = "min " .. tostring(p.minimum) end
  if p.exclusive_minimum ~= nil then bits[#bits + 1] = "> " .. tostring(p.exclusive_minimum) end
  if p.maximum ~= nil then bits[#bits + 1] = "max " .. tostring(p.maximum) end
  if p.exclusive_maximum ~= nil then bits[#bits + 1] = "< " .. tostring(p.exclusive_maximum) end
  if p.min_length ~= nil then bits[#bits + 1] = "length >= " .. tostring(p.min_length) end
  if p.max_length ~= nil then bits[#bits + 1] = "length <= " .. tostring(p.max_length) end
  if p.min_items ~= nil then bits[#bits + 1] = "items >= " .. tostring(p.min_items) end
  if p.max_items ~= nil then bits[#bits + 1] = "items <= " .. tostring(p.max_items) end
  if p.additional then bits[#bits + 1] = "any keys" end
  return table.concat(bits, ", ")
end

local MAX_NESTING = 2 -- nested object fields shown this deep (the reference stays readable)

-- One parameter: name (type, required|optional, ...) then its wrapped description, then its
-- nested fields as parent.child.
local function param_lines(p, width, out, prefix, depth)
  prefix, depth = prefix or "", depth or 0
  local name = prefix .. p.name
  local head = "  " .. name .. "  (" .. constraint_text(p) .. ")"
  out[#out + 1] = printer.visible_len(head) <= width and head or wrap(head, width, "", "      ")
  local about = plain(p.description)
  if p.enum then
    local values = {}
    for i, e in ipairs(p.enum) do values[i] = lua_literal(e) end
    about = about .. (about ~= "" and " " or "") .. "One of: " .. table.concat(values, ", ") .. "."
  end
  if p.pattern then about = about .. (about ~= "" and " " or "") .. "Pattern: " .. p.pattern .. "." end
  if p.example ~= nil and type(p.example) ~= "table" then
    about = about .. (about ~= "" and " " or "") .. "Example: " .. lua_literal(p.example) .. "."
  end
  if about ~= "" then out[#out + 1] = wrap(about, width, "      ", "      ") end
  local nested = p.fields or (p.items and p.items.fields)
  if nested and depth < MAX_NESTING then
    local sub = name .. (p.fields and "." or "[].")
    for _, f in ipairs(nested) do param_lines(f, width, out, sub, depth + 1) end
  end
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
  out[#out + 1] = "  " .. op.http_method .. " " .. (op.server or "") .. op.path
  if op.summary then out[#out + 1] = wrap(plain(op.summary), width, "  ", "  ") end
  if op.description and plain(op.description) ~= plain(op.summary) then
    out[#out + 1] = wrap(plain(op.description), width, "  ", "  ")
  end
  local paragraphs, code = returns_text(op)
  for _, para in ipairs(paragraphs) do out[#out + 1] = wrap(para, width, "  ", "  ") end
  for _, line in ipairs(code) do out[#out + 1] = "    " .. line end
  local pos, named = positional(op), named_path_params(op)
  if pos or #named > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "Path parameters:"
    if pos then
      out[#out + 1] = "  " .. pos .. "  (string, required)"
      out[#out + 1] = "      The {" .. pos .. "} in the path: the first argument."
    end
    for _, name in ipairs(named) do
      out[#out + 1] = "  " .. name .. "  (string, required)"
      out[#out + 1] = "      The {" .. name .. "} in the path: a field of params."
    end
  end
  if op.body and op.body.fields and #op.body.fields > 0 then
    out[#out + 1] = ""
    out[#out + 1] = string.format("Body fields (params, a table%s; sent as %s):",
                                  op.body.optional and ", optional" or "",
                                  tostring(op.body.content_type or "application/json"))
    for _, p in ipairs(by_requiredness(op.body.fields)) do param_lines(p, width, out) end
  elseif whole_body(op) then
    out[#out + 1] = ""
    local about = whole_body(op) .. ", " .. (op.body.optional and "optional" or "required")
    if op.body.type == "array" then -- its items and bounds, as a field's would read
      about = constraint_text({ type = "array", items = op.body.items, required = not op.body.optional,
                                min_items = op.body.min_items, max_items = op.body.max_items })
      if op.body.items and op.body.items.max_length then
        about = about .. ", each " .. constraint_text(op.body.items):gsub(", optional", "")
      end
    end
    out[#out + 1] = wrap(string.format("Body (params.body%s): %s, sent as %s.",
      op.body.content_type == "application/octet-stream" and ", or params itself" or "",
      about, tostring(op.body.content_type)), width, "", "  ")
  elseif op.body then
    out[#out + 1] = ""
    out[#out + 1] = "Body (params): " .. tostring(op.body.type or "any") .. ", sent as " ..
      tostring(op.body.content_type or "application/json") .. "."
  end
  if op.query and #op.query > 0 then
    out[#out + 1] = ""
    out[#out + 1] = wrap("Query parameters (params; filter[x] and page[size] may also be written " ..
      "{filter = {x = ...}, page = {size = N}}):", width, "", "  ")
    for _, p in ipairs(by_requiredness(op.query)) do param_lines(p, width, out) end
  end
  if op.headers and #op.headers > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "Headers (opts.headers):"
    for _, p in ipairs(by_requiredness(op.headers)) do param_lines(p, width, out) end
  end
  out[#out + 1] = ""
  out[#out + 1] = "Example:"
  for _, line in ipairs(example_calls(op)) do out[#out + 1] = "  " .. line end
  out[#out + 1] = wrap("(a last opts table {timeout =, max_retries =, headers =, extra_query =, " ..
    "extra_body =, extra_headers =} applies to one call)", width, "  ", "  ")
  return out
end

local function method_row(op, width, method_w, path_w)
  local line = "  " .. pad_right(op.method, method_w + 2) .. pad_right(op.http_method, 7) ..
    pad_right(op.path, path_w + 2) .. plain(op.summary)
  return truncate(line, width)
end

local function help_resource(name, width)
  local out = {}
  local methods = M.methods_of(name) or {}
  out[#out + 1] = "client." .. name .. "  (telnyx.Resource)"
  out[#out + 1] = "Methods (call with ':', e.g. client." .. name .. ":" ..
    (methods[1] or "list") .. "(...)):"
  local ops, method_w, path_w = {}, 0, 0
  for _, method in ipairs(methods) do
    local op = M.operation(name, method)
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
      out[#out + 1] = "  client." .. kid .. "  (" .. table.concat(M.methods_of(kid), ", ") .. ")"
    end
  end
  -- operations of the spec under this name that are not bound, and why (WebSocket only)
  for _, u in ipairs(M.unbound()) do
    if u.resource == name then
      out[#out + 1] = "Not bound: " .. tostring(u.method) .. " (" .. u.http_method .. " " .. u.path .. "):"
      out[#out + 1] = "  " .. u.reason
    end
  end
  out[#out + 1] = "help(client." .. name .. "." .. (methods[1] or "list") ..
    ") shows one method's parameters and an example."
  return out
end

local function help_client(d, width)
  local out = {}
  out[#out + 1] = "telnyx.Client talking to " .. tostring(d.base_url)
  out[#out + 1] = "Resources (help(client.<name>) for their methods):"
  for _, name in ipairs(M.resource_names()) do
    local line = "  " .. pad_right(name, 34) .. table.concat(M.methods_of(name), " ")
    out[#out + 1] = truncate(line, width)
  end
  out[#out + 1] = wrap("Also: client:request(method, path [, {query =, body =, headers =, " ..
    "timeout =}]) for any endpoint, client:close().", width, "", "  ")
  return out
end

-- What each field of the module is for; fields not listed still show, by type.
local MODULE_FIELDS = {
  new = { "telnyx.new{api_key =, base_url =, timeout =, max_retries =, headers =, connect_timeout =, " ..
          "ca_bundle =, proxy =}",
          "A client; api_key defaults to env TELNYX_API_KEY, base_url to TELNYX_BASE_URL. timeout " ..
          "(per attempt) and connect_timeout are seconds; ca_bundle is a PEM file of trusted CAs (default " ..
          "TELNYX_CA_BUNDLE); proxy a URL, false for none (default https_proxy, HTTPS_PROXY, " ..
          "all_proxy, ALL_PROXY, minus NO_PROXY)." },
  file = { "telnyx.file(path [, {filename =, content_type =}])\ntelnyx.file{data =, filename =, content_type =}",
           "A file to send: a file part of a multipart/form-data body ({file = telnyx.file(\"a.wav\")}), " ..
           "or a whole application/octet-stream body. A path is read while sending (and again on a " ..
           "retry); data is a string in memory." },
  map = { "telnyx.map(items, fn, {concurrency = 8, progress = true})",
          "Bulk work: fn(item, i) for each item, requests in parallel; returns results " ..
          "(results[i] what fn returned, nil for a failed item; results.n the number of items: " ..
          "walk for i = 1, results.n) and failures ({index =, item =, error =} each). Ctrl-C " ..
          "raises an InterruptedError with in_flight (outcome unknown) and not_started indexes." },
  is_error = { "telnyx.is_error(v [, type])", "True for an API error object (of that type)." },
  describe = { "telnyx.describe(v)", "What a client, resource or method is (help uses it)." },
  help = { "telnyx.help([x])", "This help, as a string: of the module, a client, a resource, a " ..
           "method (also by name: telnyx.help(\"billing_groups.create\")), a pager or an error." },
  null = { "telnyx.null", "JSON null, to send one ({description = telnyx.null}); a null " ..
           "inside a decoded array. A decoded record's null field reads as nil instead." },
  json = { "telnyx.json.encode(v), telnyx.json.decode(s), telnyx.json.nulls(t), telnyx.json.array(t)",
           "JSON, with null and [] kept: a record's null fields (nil, left out by pairs, listed " ..
           "by nulls) are encoded again as null." },
  VERSION = { "telnyx.VERSION", "The module's version." },
}

-- The same for telnyx.json's fields, shown when one of them is asked about.
local JSON_FIELDS = {
  encode = { "telnyx.json.encode(v)", "JSON text of v: integers exact, a decoded record's null " ..
             "fields written as null, an array marked by decode or telnyx.json.array as [] when empty." },
  decode = { "telnyx.json.decode(s)", "The value of JSON text s: a null field of a record reads as nil " ..
             "(listed by telnyx.json.nulls), a null in an array as telnyx.null; errors give the byte position." },
  nulls = { "telnyx.json.nulls(t)", "The names of a decoded record's null fields (an array, in no " ..
            "particular order): pairs leaves them out, since they read as nil." },
  array = { "telnyx.json.array([t])", "Marks t (or a new table) as a JSON array, so that an empty " ..
            "one is encoded as [] rather than {}; returns it." },
  null = MODULE_FIELDS.null,
}

-- An entry's signature: each of its "\n"-separated forms wrapped on its own, so none runs past
-- the width.
local function signature_lines(text, width, indent, rest)
  local lines = {}
  for form in text:gmatch("[^\n]+") do lines[#lines + 1] = wrap(form, width, indent, rest) end
  return table.concat(lines, "\n")
end

-- The entry of a value of the module or of telnyx.json (telnyx.file, telnyx.json.nulls), or nil.
local function module_entry(x)
  for k, v in pairs(telnyx) do
    if v == x and not util.is_internal(k) and MODULE_FIELDS[k] then return MODULE_FIELDS[k] end
  end
  for k, v in pairs(telnyx.json) do
    if v == x and JSON_FIELDS[k] then return JSON_FIELDS[k] end
  end
  return nil
end

local function help_module(width)
  local out = {}
  out[#out + 1] = "telnyx " .. tostring(telnyx.VERSION) .. ": a client for the Telnyx API."
  for _, k in ipairs(util.sorted_keys(telnyx)) do
    if not util.is_internal(k) then
      local entry = MODULE_FIELDS[k] or { "telnyx." .. k, "A " .. type(telnyx[k]) .. "." }
      out[#out + 1] = signature_lines(entry[1], width, "  ", "    ")
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
  out[#out + 1] = ""
  out[#out + 1] = "In scripts (and stock lua5.4 with telnyx.so):"
  out[#out + 1] = "  print(telnyx.help(client.billing_groups.create))"
  out[#out + 1] = "  print(telnyx.help(\"billing_groups.create\"))   by name, no client needed"
  out[#out + 1] = wrap("The whole reference, generated from the same table: lua/telnyx/REFERENCE.md " ..
    "in the source tree; `man telnyx-lua` for the host.", width, "", "  ")
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
  out[#out + 1] = "  pager:ids([field])               an array of every item's id (or field), all pages read first"
  out[#out + 1] = "  pager:peek()                     the items iteration starts with, taking none"
  out[#out + 1] = "  pager:info(), pager:close()"
  out[#out + 1] = wrap("Changing the collection while paging it (deleting or adding items) shifts " ..
    "the later pages, so items are skipped. To delete safely, take the ids first: " ..
    "for _, id in ipairs(pager:ids()) do ... end (ids reads every page before it returns, and " ..
    "holds one id an item).",
    width, "", "  ")
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
  local op = res and M.operation(res, method)
  if op then return help_method(op, width) end
  for _, u in ipairs(M.unbound()) do
    if u.resource .. "." .. u.method == name or (u.resource == name and res == nil) then
      return { "client." .. u.resource .. ":" .. u.method .. " is not available: " ..
        tostring(u.reason) .. " (" .. tostring(u.http_method) .. " " .. tostring(u.path) .. ")" }
    end
  end
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
      local op = M.operation(d.op.resource, d.op.method) or d.op
      out = help_method(op, width)
    else
      local entry = module_entry(x)
      out = entry and { signature_lines(entry[1], width, "", "    "), wrap(entry[2], width, "  ", "  ") }
        or help_other(x, width)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- telnyx.help([x [, opts]]) -> the text; no argument is the module overview.
function M.text(...)
  if select("#", ...) == 0 then return M.help_text(telnyx) end
  return M.help_text(...)
end

-- help(x) for scripts: writes the text, returns nothing.
function M.help(...)
  local x = select("#", ...) == 0 and telnyx or (...)
  io.stdout:write(M.help_text(x))
  io.stdout:flush()
end

return M
