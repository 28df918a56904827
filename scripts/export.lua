#!/usr/bin/env telnyx-lua
--[[
scripts/export.lua: streams every item of a list resource to stdout.

  telnyx-lua scripts/export.lua RESOURCE [--filter KEY=VALUE ...] [--sort S]
                                [--page-size N] [--format jsonl|csv|json]

RESOURCE is any resource with a list operation in the API table (`require "telnyx.resources"`,
e.g. access_ip_address, billing_groups, telephony_credentials; dotted names of nested
resources are accepted too). Pages are fetched one at a time through the pager and written
as they arrive, so memory stays flat whatever the number of items.

  --filter  filter[ip_address]=203.0.113.7, or the shorthand ip_address=203.0.113.7 (and
            created_at[gt]=... for filter[created_at][gt]); repeatable. Only the filters the
            API lists for RESOURCE are accepted: a typo would otherwise export everything.
  --sort    for the resources that take a sort; a leading "-" sorts descending, written
            --sort=-created_at so that it is not read as an option.
  --page-size  items a request (default 250, capped at what the API allows).
  --format
    jsonl   one JSON object a line (the default).
    json    one JSON array, written incrementally.
    csv     RFC 4180: a header row, then one row an item, CRLF line ends, a field quoted
            when it holds a comma, a double quote (doubled), CR, LF, or leading/trailing
            space. The columns are the union of the top-level fields of the items of the
            first page, `id` first, then in alphabetical order. Scalars are written as they
            are (null as an empty field, booleans as true/false); nested objects and arrays
            as their JSON text. A field that first shows up after the first page has no
            column: it is named once on stderr. No items: no output at all.
            A text cell starting with =, +, -, @, tab or CR gets a leading single
            quote (') so that a spreadsheet does not run it as a formula (OWASP's
            advice for CSV injection). Written to a terminal, control characters in
            cells are shown as \xNN; to a file or a pipe, cells are kept as they are.

JSON text (jsonl, json) has the C1 control characters (U+0080..U+009F) written as \u escapes,
like C0 ones, so that the output cannot drive a terminal; decoded, it is the same data.

Credentials never reach the output: the values of the keys the module's logging redacts
(password, sip_password, token, api_key, and any key containing "secret", at any depth)
are written as "[redacted]".

Exit status: 0 done, 1 a request failed or interrupted (the output is then incomplete; a
json array is left unterminated so that it does not parse as a complete export), 2 bad usage
(an unknown RESOURCE lists the valid ones). Environment: TELNYX_API_KEY (required),
TELNYX_BASE_URL, TELNYX_LOG.
]]

local telnyx = require "telnyx"
local cli = require "telnyx.cli"
local api = require "telnyx.operations"

local NAME = "export.lua"
local DEFAULT_PAGE_SIZE = 250
local encode = telnyx.json.encode

-- The list operations by resource name, and the names sorted.
local function list_operations()
  local ops, names = {}, {}
  for _, r in ipairs(api.resources()) do
    for _, m in ipairs(r.methods) do
      if m == "list" then
        ops[r.name] = api.find(r.name, "list")
        names[#names + 1] = r.name
      end
    end
  end
  return ops, names
end

local function query_param(op, name)
  for _, p in ipairs(op.query or {}) do
    if p.name == name then return p end
  end
  return nil
end

local function filter_names(op)
  local names = {}
  for _, p in ipairs(op.query or {}) do
    if p.name:match("^filter%[") then names[#names + 1] = p.name end
  end
  return names
end

---------------------------------------------------------------------------
-- The query from the command line
---------------------------------------------------------------------------

-- "--filter KEY=VALUE" -> the query key (filter[...]...) and the value.
local function parse_filter(op, spec)
  local key, value = spec:match("^([^=]+)=(.*)$")
  if not key then cli.usage_error("--filter takes KEY=VALUE, got '%s'", spec) end
  if not key:match("^filter%[") then
    local field, rest = key:match("^([^%[%]]+)(.*)$")
    key = field and ("filter[" .. field .. "]" .. rest) or key
  end
  local param = query_param(op, key)
  if not param then
    local known = filter_names(op)
    cli.usage_error("%s takes no filter %s; %s", op.resource, key, #known == 0 and "it has no filters"
                    or ("its filters: " .. table.concat(known, ", ")))
  end
  if param.enum then
    local ok = false
    for _, v in ipairs(param.enum) do ok = ok or tostring(v) == value end
    if not ok then cli.usage_error("%s must be one of: %s", key, table.concat(param.enum, ", ")) end
  end
  return key, value
end

-- --sort S, checked against the sorts the API lists (with or without the leading "-").
local function check_sort(op, sort)
  local param = query_param(op, "sort")
  if not param then cli.usage_error("%s takes no --sort", op.resource) end
  if param.enum then
    local field = sort:gsub("^%-", "")
    for _, v in ipairs(param.enum) do
      if v == sort or v == field or v == "-" .. field then return sort end
    end
    cli.usage_error("--sort for %s must be one of: %s (--sort=-NAME sorts descending)",
                    op.resource, table.concat(param.enum, ", "))
  end
  return sort
end

local function check_page_size(op, text)
  local param = query_param(op, "page[size]")
  local max = param and math.tointeger(param.maximum) or DEFAULT_PAGE_SIZE
  if text == nil then return math.min(DEFAULT_PAGE_SIZE, max) end
  local n = tonumber(text)
  if math.type(n) ~= "integer" or n < 1 or n > max then
    cli.usage_error("--page-size for %s must be an integer from 1 to %d, got '%s'", op.resource, max, text)
  end
  return n
end

local function build_query(op, args)
  local query = { ["page[size]"] = check_page_size(op, args.page_size) }
  for _, spec in ipairs(args.filter or {}) do
    local key, value = parse_filter(op, spec)
    query[key] = value
  end
  if args.sort then query.sort = check_sort(op, args.sort) end
  return query
end

---------------------------------------------------------------------------
-- Writers: each takes the items of one page at a time, then finish()
---------------------------------------------------------------------------

-- JSON text of v with C1 controls escaped: raw U+0080..U+009F only occur inside strings,
-- where \u0080..\u009f mean the same.
local function json_text(v)
  return (encode(v):gsub("\194([\128-\159])", function(c) return ("\\u%04x"):format(c:byte()) end))
end

local function jsonl_writer()
  return {
    page = function(items)
      for _, item in ipairs(items) do cli.out(json_text(item), "\n") end
    end,
    finish = function() end,
  }
end

local function json_writer()
  local first = true
  return {
    page = function(items)
      for _, item in ipairs(items) do
        cli.out(first and "[\n" or ",\n", json_text(item))
        first = false
      end
    end,
    finish = function() cli.out(first and "[]\n" or "\n]\n") end,
  }
end

-- One CSV field (see the header comment for the rules); `terminal`: stdout is one.
local function csv_field(v, terminal)
  if v == nil or v == telnyx.null then return "" end
  local text = type(v) == "string" and v or encode(v)
  -- Numbers, booleans and JSON text cannot be formulas: only text cells are quoted.
  if type(v) == "string" and text:find("^[=+%-@\t\r]") then text = "'" .. text end
  if terminal then text = cli.printable(text) end
  if text:find('[",\r\n]') or text:find("^%s") or text:find("%s$") then
    return '"' .. text:gsub('"', '""') .. '"'
  end
  return text
end

-- The top-level field names of an item, null fields included (pairs does not show those).
local function field_names(item)
  if type(item) ~= "table" then return {} end
  local names = telnyx.json.nulls(item)
  for k in pairs(item) do names[#names + 1] = k end
  return names
end

-- The columns: the union of the top-level fields of the items, "id" first, then sorted.
local function csv_columns(items)
  local seen, columns = {}, {}
  for _, item in ipairs(items) do
    for _, k in ipairs(field_names(item)) do
      if type(k) == "string" and not seen[k] then
        seen[k] = true
        columns[#columns + 1] = k
      end
    end
  end
  table.sort(columns, function(a, b)
    if (a == "id") ~= (b == "id") then return a == "id" end
    return a < b
  end)
  return columns, seen
end

local function csv_writer()
  local terminal = cli.stdout_is_terminal()
  local columns, known
  local function row(fields) cli.out(table.concat(fields, ","), "\r\n") end
  return {
    page = function(items)
      if not columns then
        columns, known = csv_columns(items)
        local header = {}
        for i, c in ipairs(columns) do header[i] = csv_field(c, terminal) end
        row(header)
      end
      for _, item in ipairs(items) do
        local fields = {}
        for i, c in ipairs(columns) do fields[i] = csv_field(item[c], terminal) end
        row(fields)
        for _, k in ipairs(field_names(item)) do
          if not known[k] then
            known[k] = true -- named once
            cli.warn("field '%s' first appears after the first page; it has no CSV column", tostring(k))
          end
        end
      end
    end,
    finish = function() end,
  }
end

local WRITERS = { jsonl = jsonl_writer, json = json_writer, csv = csv_writer }

---------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------

local function parse_args(argv)
  local _, names = list_operations()
  local parser = cli.parser(NAME, "Stream every item of a list resource to stdout.",
    "Resources: " .. table.concat(names, ", ") .. ".\n" ..
    "Exit status: 0 done, 1 a request failed (output incomplete), 2 bad usage.\n" ..
    "Environment: TELNYX_API_KEY (required), TELNYX_BASE_URL.")
  parser:argument("resource", "The resource to export."):argname("RESOURCE")
  parser:option("--filter", "A filter, filter[field]=value or field=value (repeatable).")
    :argname("KEY=VALUE"):count("*")
  parser:option("--sort", "Sort order, e.g. created_at, or --sort=-created_at (descending).")
    :argname("S")
  parser:option("--page-size", "Items a request (default 250, at most what the API allows).")
    :argname("N")
  parser:option("--format", "Output format. In csv, a text cell starting with =, +, -, @, tab " ..
                "or CR gets a leading single quote (') so that spreadsheets do not run it as a " ..
                "formula.", "jsonl"):choices{ "jsonl", "csv", "json" }
  return parser:parse(argv)
end


local function main(argv)
  local args = parse_args(argv)
  local ops, names = list_operations()
  local op = ops[args.resource]
  if not op then
    cli.usage_error("unknown resource '%s'; resources that can be exported: %s", args.resource,
                    table.concat(names, ", "))
  end
  local query = build_query(op, args)
  local client = cli.client()
  local writer = WRITERS[args.format]()
  for page in cli.resource(client, op.resource):list(query):pages() do
    for _, item in ipairs(page.data) do cli.redact(item) end
    writer.page(page.data)
  end
  writer.finish()
  return cli.EXIT_OK
end

cli.main(NAME, main)
