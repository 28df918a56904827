-- The pretty printer of the REPL, also for scripts: `require("telnyx.repl").format(v)`.
-- Values of secret keys are redacted by the request log's rule (telnyx._is_secret_key).

local telnyx = require "telnyx"
local util = require "telnyx.util"

local M = {}

local DEFAULT_MAX_ITEMS = 20
local DEFAULT_DEPTH = 12
local INDENT = "  "


-- ANSI SGR codes per kind of value; used only when opts.color is true.
local COLORS = {
  string = "32", number = "33", boolean = "35", null = "35", ["nil"] = "35",
  ["function"] = "36", userdata = "36", thread = "36", note = "2", error = "1;31",
}

-- Keys whose values are secrets: the request log's own rule (src/log.c).
local is_secret_key = telnyx._is_secret_key

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
M.visible_len = visible_len

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
M.split_keys = split_keys

local function key_text(k)
  if util.is_identifier(k) then return k end
  if type(k) == "string" then return "[" .. quote(k) .. "]" end
  return "[" .. tostring(k) .. "]"
end
M.key_text = key_text

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
  -- A decoded object's null fields hold no value (they read as nil) but show as null.
  local nulls = telnyx.json.nulls(t)
  if #nulls > 0 then
    table.move(nulls, 1, #nulls, #rest + 1, rest)
    table.sort(rest, key_less)
  end
  local is_json_array = util.type_name(t) == "telnyx.array"
  local entries = {}
  local shown = math.min(n, ctx.max_items)
  for i = 1, shown do entries[#entries + 1] = render(rawget(t, i), ctx, level + 1) end
  if n > shown then
    entries[#entries + 1] = paint(ctx, "note", string.format("... (%d more)", n - shown))
  end
  for _, k in ipairs(rest) do
    local v = rawget(t, k)
    if v == nil then v = telnyx.null end -- one of the null fields
    entries[#entries + 1] = value_entry(ctx, k, v, level)
  end
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
  for _, k in ipairs(util.sorted_keys(e)) do
    if not ERROR_SKIP[k] then entries[#entries + 1] = value_entry(ctx, k, rawget(e, k), level) end
  end
  local head = paint(ctx, "error", tostring(rawget(e, "type") or "Error")) .. " "
  return layout(ctx, level, head .. "{", "}", entries)
end

local function render_userdata(v, ctx, level)
  local name = util.type_name(v)
  if name == "telnyx.Pager" then
    local ok, info = pcall(function() return v:info() end)
    local text = tostring(v)
    if ok and type(info) == "table" and type(info.params) == "table" and next(info.params) then
      text = text .. " params " .. render(info.params, ctx, level)
    end
    return paint(ctx, "userdata", text)
  end
  local d = util.describe(v)
  if d and d.kind == "resource" then
    return paint(ctx, "userdata", string.format("telnyx.Resource (%s: %s)", d.name,
                                                table.concat(util.sorted_keys(d.methods or {}), ", ")))
  end
  -- telnyx.Client's tostring shows the base URL, never the key.
  return paint(ctx, "userdata", tostring(v))
end

local function render_function(f, ctx)
  local d = util.describe(f)
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

-- A pager as the REPL shows a list call's result: what it is, the items its iteration starts
-- with (the first page, fetched now), and how to get the rest, as the official SDKs' pages print.
local function render_pager_page(v, ctx)
  local head = paint(ctx, "userdata", tostring(v))
  local ok, page = pcall(function() return v:peek() end)
  if not ok then
    return head .. "\n" .. paint(ctx, "note", "(first page not fetched: " .. tostring(page) .. ")")
  end
  head = paint(ctx, "userdata", tostring(v))  -- now counts the page just fetched
  if page == nil then return head .. "\n" .. paint(ctx, "note", "(no items)") end
  local meta = type(page.meta) == "table" and page.meta or {}
  local where = {}
  if meta.page_number then
    where[#where + 1] = "page " .. tostring(meta.page_number) ..
      (meta.total_pages and (" of " .. tostring(meta.total_pages)) or "")
  end
  if meta.total_results then where[#where + 1] = tostring(meta.total_results) .. " items in all" end
  local lines = { head .. (#where > 0 and (" " .. table.concat(where, ", ")) or "") }
  lines[#lines + 1] = render(page.data, ctx, 0)
  lines[#lines + 1] = paint(ctx, "note", "-- the rest: p = <this call>, then for item in p do ... end " ..
                            "(every page) or p:collect(); help(p)")
  return table.concat(lines, "\n")
end

-- format(v [, opts]) -> string. opts: color (false), width (COLUMNS or 80), max_items (20),
-- depth (12), redact (true: the values of secret keys, by the request log's rule, are hidden),
-- pages (false: true shows a pager's first page, fetching it; the REPL's results).
function M.format(v, opts)
  opts = opts or {}
  local ctx = {
    color = opts.color == true,
    width = opts.width or util.terminal_width(),
    max_items = opts.max_items or DEFAULT_MAX_ITEMS,
    depth = opts.depth or DEFAULT_DEPTH,
    redact = opts.redact ~= false,
    active = {},
  }
  if opts.pages and util.type_name(v) == "telnyx.Pager" then return render_pager_page(v, ctx) end
  return render(v, ctx, 0)
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

return M
