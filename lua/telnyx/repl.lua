-- The REPL's Lua half: the pretty printer (also for scripts: `require("telnyx.repl").format(v)`),
-- help built from the generated resource table, and completion candidates. src/repl.c owns the
-- terminal (readline, signals, history) and calls in here under protection.

local telnyx = require "telnyx"

local M = {}

local DEFAULT_WIDTH = 80
local DEFAULT_MAX_ITEMS = 20
local DEFAULT_DEPTH = 12
local INDENT = "  "

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
  "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}
local KEYWORD_SET = {}
for _, k in ipairs(KEYWORDS) do KEYWORD_SET[k] = true end

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and not KEYWORD_SET[s]
end

-- The metatable's __name, read without tripping a __metatable guard or an __index.
local function type_name(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local name = rawget(mt, "__name")
  return type(name) == "string" and name or nil
end

-- telnyx.describe never raises for values it does not know, but stay safe for odd userdata.
local function describe(v)
  local ok, d = pcall(telnyx.describe, v)
  if ok and type(d) == "table" then return d end
  return nil
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

---------------------------------------------------------------------------
-- Pretty printer
---------------------------------------------------------------------------

-- ANSI SGR codes per kind of value; used only when opts.color is true.
local COLORS = {
  string = "32", number = "33", boolean = "35", null = "35", ["nil"] = "35",
  ["function"] = "36", userdata = "36", thread = "36", note = "2", error = "1;31",
}

-- Keys whose values are secrets: the same rule the request log applies to bodies.
local function is_secret_key(k)
  if type(k) ~= "string" then return false end
  k = k:lower()
  return k == "password" or k == "sip_password" or k == "token" or k == "api_key"
    or k:find("secret", 1, true) ~= nil
end

local ESCAPES = {
  ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t", ["\v"] = "\\v", ['"'] = '\\"', ["\\"] = "\\\\",
}

-- Double-quoted, escaping only what would be ambiguous or invisible; UTF-8 stays readable.
-- Numeric escapes are three digits so a following digit cannot join them.
local function quote(s)
  local special = utf8.len(s) and '[%c"\\]' or '[%c"\\\128-\255]' -- not UTF-8: escape high bytes
  return '"' .. s:gsub(special, function(c)
    return ESCAPES[c] or string.format("\\%03d", c:byte())
  end) .. '"'
end
M.quote = quote

-- Visible width of a rendered piece (colour escapes take no room).
local function visible_len(s)
  return utf8.len((s:gsub("\27%[[%d;]*m", ""))) or #s
end

-- Array part first (1..n without holes), then the other keys: numbers, strings, the rest.
local KEY_RANK = { number = 1, string = 2, boolean = 3 }
local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (KEY_RANK[ta] or 4) < (KEY_RANK[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function split_keys(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local rest = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then rest[#rest + 1] = k end
  end
  table.sort(rest, key_less)
  return n, rest
end

local function key_text(k)
  if is_identifier(k) then return k end
  if type(k) == "string" then return "[" .. quote(k) .. "]" end
  return "[" .. tostring(k) .. "]"
end

local render -- forward: render(v, ctx, level) -> text

local function paint(ctx, kind, text)
  if not ctx.color then return text end
  return "\27[" .. COLORS[kind] .. "m" .. text .. "\27[0m"
end

local PACK_ITEM_MAX = 24 -- array items up to this wide share lines when a table is broken up

-- The first `items` entries are array items: when all are short one-liners they fill lines,
-- so a long list of numbers or ids takes a few lines, not one each.
local function packed_lines(ctx, entries, items, pad)
  local lines = {}
  for i = 1, items do
    local e = entries[i]
    if e:find("\n", 1, true) or visible_len(e) > PACK_ITEM_MAX then return nil end
  end
  local line
  for i = 1, items do
    local piece = entries[i] .. ((i < #entries) and "," or "")
    if line and visible_len(line) + 1 + visible_len(piece) > ctx.width then
      lines[#lines + 1] = line
      line = nil
    end
    line = line and (line .. " " .. piece) or (pad .. piece)
  end
  lines[#lines + 1] = line
  return lines
end

-- Joins rendered entries on one line when they fit, else one per line, indented.
local function layout(ctx, level, open, close, entries, items)
  if #entries == 0 then return open .. close end
  local inline = open .. " " .. table.concat(entries, ", ") .. " " .. close
  if not inline:find("\n", 1, true) and #INDENT * level + visible_len(inline) <= ctx.width then
    return inline
  end
  local pad = INDENT:rep(level + 1)
  local lines = { open }
  local first = 1
  local packed = (items or 0) > 1 and packed_lines(ctx, entries, items, pad)
  if packed then
    table.move(packed, 1, #packed, 2, lines)
    first = items + 1
  end
  for i = first, #entries do
    lines[#lines + 1] = pad .. entries[i] .. (i < #entries and "," or "")
  end
  lines[#lines + 1] = INDENT:rep(level) .. close
  return table.concat(lines, "\n")
end

local function value_entry(ctx, k, v, level)
  if ctx.redact and is_secret_key(k) and v ~= telnyx.null then
    return key_text(k) .. " = " .. paint(ctx, "note", "[redacted]")
  end
  return key_text(k) .. " = " .. render(v, ctx, level + 1)
end

local function render_table(t, ctx, level)
  if ctx.active[t] then return paint(ctx, "note", "<cycle: " .. tostring(t) .. ">") end
  if level >= ctx.depth then return paint(ctx, "note", "{...}") end
  ctx.active[t] = true
  local n, rest = split_keys(t)
  local is_json_array = type_name(t) == "telnyx.array"
  local entries = {}
  local shown = math.min(n, ctx.max_items)
  for i = 1, shown do entries[#entries + 1] = render(rawget(t, i), ctx, level + 1) end
  if n > shown then
    entries[#entries + 1] = paint(ctx, "note", string.format("... (%d more)", n - shown))
  end
  for _, k in ipairs(rest) do entries[#entries + 1] = value_entry(ctx, k, rawget(t, k), level) end
  ctx.active[t] = nil
  -- Only scalars share lines; each table of an array keeps a line of its own.
  local items = #entries - #rest
  for i = 1, shown do
    if type(rawget(t, i)) == "table" then items = 0 break end
  end
  if is_json_array and #rest == 0 then return layout(ctx, level, "[", "]", entries, items) end
  return layout(ctx, level, "{", "}", entries, items)
end

-- An error object: its type first, then what tells the failure apart, then the rest.
local ERROR_FIELDS = { "status", "message", "request_id", "method", "url", "errors" }
local ERROR_SKIP = { type = true, headers = true }
for _, f in ipairs(ERROR_FIELDS) do ERROR_SKIP[f] = true end

local function render_error(e, ctx, level)
  local entries = {}
  for _, f in ipairs(ERROR_FIELDS) do
    local v = rawget(e, f)
    if v ~= nil and not (f == "errors" and type(v) == "table" and next(v) == nil) then
      entries[#entries + 1] = value_entry(ctx, f, v, level)
    end
  end
  for _, k in ipairs(sorted_keys(e)) do
    if not ERROR_SKIP[k] then entries[#entries + 1] = value_entry(ctx, k, rawget(e, k), level) end
  end
  local head = paint(ctx, "error", tostring(rawget(e, "type") or "Error")) .. " "
  return layout(ctx, level, head .. "{", "}", entries)
end

local function render_userdata(v, ctx, level)
  local name = type_name(v)
  if name == "telnyx.Pager" then
    local ok, info = pcall(function() return v:info() end)
    local text = tostring(v)
    if ok and type(info) == "table" and type(info.params) == "table" and next(info.params) then
      text = text .. " params " .. render(info.params, ctx, level)
    end
    return paint(ctx, "userdata", text)
  end
  local d = describe(v)
  if d and d.kind == "resource" then
    return paint(ctx, "userdata", string.format("telnyx.Resource (%s: %s)", d.name,
                                                table.concat(sorted_keys(d.methods or {}), ", ")))
  end
  -- telnyx.Client's tostring shows the base URL, never the key.
  return paint(ctx, "userdata", tostring(v))
end

local function render_function(f, ctx)
  local d = describe(f)
  if d and d.kind == "method" and type(d.op) == "table" then
    local op = d.op
    return paint(ctx, "function", string.format("<method %s:%s %s %s>", op.resource, op.method,
                                                op.http_method, op.path))
  end
  return paint(ctx, "function", tostring(f))
end

render = function(v, ctx, level)
  if v == telnyx.null then return paint(ctx, "null", "null") end
  local tv = type(v)
  if tv == "string" then return paint(ctx, "string", quote(v)) end
  if tv == "number" then return paint(ctx, "number", tostring(v)) end
  if tv == "boolean" or tv == "nil" then return paint(ctx, tv == "nil" and "nil" or "boolean", tostring(v)) end
  if tv == "table" then
    if telnyx.is_error(v) then return render_error(v, ctx, level) end
    return render_table(v, ctx, level)
  end
  if tv == "userdata" then return render_userdata(v, ctx, level) end
  if tv == "function" then return render_function(v, ctx) end
  return paint(ctx, "thread", tostring(v))
end

local function terminal_width()
  local cols = tonumber(os.getenv("COLUMNS") or "")
  return (cols and cols >= 20) and cols or DEFAULT_WIDTH
end

-- format(v [, opts]) -> string. opts: color (false), width (COLUMNS or 80), max_items (20),
-- depth (12), redact (true: values of password/token/api_key/*secret* keys are hidden).
function M.format(v, opts)
  opts = opts or {}
  local ctx = {
    color = opts.color == true,
    width = opts.width or terminal_width(),
    max_items = opts.max_items or DEFAULT_MAX_ITEMS,
    depth = opts.depth or DEFAULT_DEPTH,
    redact = opts.redact ~= false,
    active = {},
  }
  return render(v, ctx, 0)
end

---------------------------------------------------------------------------
-- Text helpers for help
---------------------------------------------------------------------------

-- The spec's descriptions carry a little HTML; help shows plain text.
local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', nbsp = " " }
local function plain(text)
  text = tostring(text or "")
  text = text:gsub("<li>", " - "):gsub("<[^>]*>", " ")
  text = text:gsub("&(%a+);", function(e) return ENTITIES[e] end)
  return (text:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", ""))
end

-- Word-wraps one paragraph: the first line starts with `first`, the others with `rest`.
local function wrap(text, width, first, rest)
  first, rest = first or "", rest or first or ""
  local lines, line = {}, first
  local empty = true
  for word in text:gmatch("%S+") do
    if not empty and visible_len(line) + 1 + visible_len(word) > width then
      lines[#lines + 1] = line
      line, empty = rest .. word, false
    else
      line, empty = line .. (empty and "" or " ") .. word, false
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end
M.wrap = wrap

local function truncate(text, width)
  if visible_len(text) <= width then return text end
  return text:sub(1, math.max(width - 3, 1)) .. "..."
end

local function pad_right(s, n) return s .. string.rep(" ", n - #s) end

---------------------------------------------------------------------------
-- Help from the generated resource table
---------------------------------------------------------------------------

local api = require "telnyx.operations"
local resources -- the index as a sorted list, made on first use
local function spec()
  resources = resources or { resources = api.resources() }
  return resources
end

local find_op = api.find

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
  if type(v) == "string" then return quote(v) end
  if type(v) == "table" then return M.format(v, { width = math.huge }) end
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
    parts[#parts + 1] = key_text(f.name) .. " = " .. lua_literal(example_value(f))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function call_prefix(op) return "client." .. op.resource .. ":" .. op.method end

-- Example lines for one operation, built from its shape (path id, body, pagination).
local function example_calls(op)
  local prefix = call_prefix(op)
  if op.pagination then
    return { "for item in " .. prefix .. "() do print(item.id) end",
             prefix .. "{page = {size = 50}}:collect(10)" }
  end
  local params = example_params(op)
  if op.positional then
    if params then return { prefix .. '("<' .. op.positional .. '>", ' .. params .. ")" } end
    return { prefix .. '("<' .. op.positional .. '>")' }
  end
  if params then return { prefix .. params } end
  return { prefix .. "()" }
end

-- "(id, params [, opts])", the argument shapes client.c accepts for this operation.
local function signature(op)
  local required, optional = {}, {}
  if op.positional then required[#required + 1] = op.positional end
  local takes_params = op.body ~= nil or op.pagination or (op.query and #op.query > 0)
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
  if op.pagination then
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
  out[#out + 1] = visible_len(head) <= width and head or wrap(head, width, "", "      ")
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
  local description = api.description(op)
  if description and plain(description) ~= plain(op.summary) then
    out[#out + 1] = wrap(plain(description), width, "  ", "  ")
  end
  out[#out + 1] = wrap("Returns " .. returns_text(op) .. ".", width, "  ", "  ")
  if op.positional then
    out[#out + 1] = ""
    out[#out + 1] = "Arguments:"
    out[#out + 1] = "  " .. op.positional .. "  (string, required)"
    out[#out + 1] = "      The {" .. op.positional .. "} in the path."
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
    local line = "  " .. pad_right(r.name, 33) .. " " .. table.concat(r.methods, " ")
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
  for _, k in ipairs(sorted_keys(telnyx)) do
    local entry = MODULE_FIELDS[k] or { "telnyx." .. k, "A " .. type(telnyx[k]) .. "." }
    out[#out + 1] = "  " .. entry[1]
    out[#out + 1] = wrap(entry[2], width, "      ", "      ")
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
    out[#out + 1] = "  pager:info() = " .. M.format(info, { width = width - 2 }):gsub("\n", "\n  ")
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
    local n, rest = split_keys(x)
    for _, k in ipairs(rest) do keys[#keys + 1] = key_text(k) end
    local out = { string.format("a table: %d array item%s, %d other key%s", n, n == 1 and "" or "s",
                                #rest, #rest == 1 and "" or "s") }
    if #keys > 0 then out[#out + 1] = wrap(table.concat(keys, " "), width, "  ", "  ") end
    return out
  end
  return { "a " .. tx .. ": " .. M.format(x, { width = width }) ..
    "  (help() lists what the telnyx module offers)" }
end

-- help_text(x [, opts]) -> text ending in a newline; x is telnyx for the module overview.
-- opts.width wraps long descriptions (default COLUMNS or 80).
function M.help_text(x, opts)
  opts = opts or {}
  local width = opts.width or terminal_width()
  local out
  if x == telnyx then
    out = help_module(width)
  elseif x == nil then
    out = { "nil: nothing to describe (help() shows what the telnyx module offers)." }
  elseif type(x) == "string" then
    out = help_name(x, width)
      or { "no resource or method named " .. quote(x) .. "; help(client) lists them." }
  elseif type_name(x) == "telnyx.Pager" then
    out = help_pager(x, width)
  elseif type(x) == "table" and telnyx.is_error(x) then
    out = help_error(x, width)
  else
    local d = describe(x)
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

---------------------------------------------------------------------------
-- Completion: names a value offers, found without calling user code or making requests
---------------------------------------------------------------------------

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
      if is_identifier(k) and fields[k] == nil then fields[k] = v end
    end
  end
  return fields
end

-- name -> true (a method) or false (a field) for what `v` offers after '.' or ':'.
local function offered(v)
  local out = {}
  local tv = type(v)
  if tv == "table" then
    for k, fv in pairs(table_fields(v, {})) do out[k] = type(fv) == "function" end
    return out
  end
  local d = (tv == "userdata") and describe(v) or nil
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
    local d = describe(v)
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
    for _, k in ipairs(KEYWORDS) do names[k] = true end
  else
    local v = env
    for part in (prefix .. "."):gmatch("(.-)%.") do
      if not is_identifier(part) then return {} end
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

---------------------------------------------------------------------------
-- The REPL session (set up by src/repl.c)
---------------------------------------------------------------------------

-- session{color =, interactive =, width = function} -> {show, complete, banner}; also sets the
-- REPL's globals: telnyx, help, and client when TELNYX_API_KEY is set (unless already there).
function M.session(opts)
  opts = opts or {}
  local width = opts.width or terminal_width
  local env = _G
  local s = {}
  if env.telnyx == nil then env.telnyx = telnyx end
  if env.help == nil then
    env.help = function(...)
      -- help() with no argument is the module overview; help(nil) says there is nothing.
      local x = select("#", ...) == 0 and telnyx or (...)
      io.stdout:write(M.help_text(x, { width = width() }))
      io.stdout:flush()
    end
  end
  local key = os.getenv("TELNYX_API_KEY")
  local client_error
  if env.client == nil and key ~= nil and key ~= "" then
    local ok, c = pcall(telnyx.new)
    if ok then env.client = c else client_error = tostring(c) end
  end

  -- Results of a line, each on its own line.
  function s.show(...)
    local n = select("#", ...)
    -- list() returns pager, nil, nil, pager (the last closes it after a `for` break): one pager.
    local first, _, _, closer = ...
    if n == 4 and closer ~= nil and rawequal(first, closer) and select(2, ...) == nil
        and select(3, ...) == nil then
      n = 1
    end
    local fopts = { color = opts.color, width = width() }
    local parts = {}
    for i = 1, n do parts[i] = M.format((select(i, ...)), fopts) end
    io.stdout:write(table.concat(parts, "\n"), "\n")
    io.stdout:flush()
  end

  function s.complete(text) return M.complete(text, env) end

  -- One error line, red on a colour terminal.
  function s.error_line(msg)
    msg = tostring(msg)
    if opts.color then return "\27[31m" .. msg .. "\27[0m" end
    return msg
  end

  function s.banner()
    local lines = {}
    local c = rawget(env, "client")
    local d = c ~= nil and describe(c) or nil
    if d and d.kind == "client" then
      lines[#lines + 1] = "client = telnyx.new() talks to " .. tostring(d.base_url)
      lines[#lines + 1] = "help(client) lists what it can do; help() shows the telnyx module; "
        .. "Tab completes."
    elseif client_error then
      lines[#lines + 1] = "could not create client: " .. client_error
    else
      lines[#lines + 1] = "TELNYX_API_KEY is not set, so there is no `client` yet."
      lines[#lines + 1] = "Export it in the shell and restart, or make one here:"
      lines[#lines + 1] = "  client = telnyx.new{api_key = \"KEY...\"}"
      lines[#lines + 1] = "help() shows the telnyx module; Tab completes."
    end
    local w = width()
    for i, line in ipairs(lines) do lines[i] = wrap(line, w, "", "  ") end
    return table.concat(lines, "\n") .. "\n"
  end

  return s
end

return M
