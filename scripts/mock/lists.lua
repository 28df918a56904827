-- List operations: pagination, filters and sorts as the OpenAPI file describes them.

local util = require "mock.util"
local schemas = require "mock.schema"
local resource_rules = require "mock.rules"
local store = require "mock.store"
local responses = require "mock.responses"
local state = require("mock.state").state

local NULL, parse_time, json_encode, scalar_text =
  util.NULL, util.parse_time, util.json_encode, util.scalar_text
local enum_has = schemas.enum_has
local FILTER_FIELDS, CONTAINS_BY_DEFAULT =
  resource_rules.FILTER_FIELDS, resource_rules.CONTAINS_BY_DEFAULT
local store_items, settle, record_json = store.store_items, store.settle, store.record_json
local error_response, json_response = responses.error_response, responses.json_response

local concat, sort = table.concat, table.sort
local format, find, sub, lower, match, gmatch =
  string.format, string.find, string.sub, string.lower, string.match, string.gmatch
local min, tointeger = math.min, math.tointeger

local PAGE_SIZE_LIMIT = 250    -- the API's cap where a page schema states none

local function int_param(q, name, default, lo, hi)
  local raw = q[name]
  if raw == nil or raw == "" then return tointeger(default) end
  local n = tonumber(raw)
  n = n and tointeger(n)
  if not n then return nil, name .. " must be an integer" end
  if n < lo then return nil, format("%s must be at least %d", name, lo) end
  if hi and n > hi then return nil, format("%s must be at most %d", name, hi) end
  return n
end

local function page_params(op, q)
  local api = state.api
  local p = op.params.page
  local props = p and api.deref(p.schema).properties or {}
  local size_s, num_s = api.deref(props.size) or {}, api.deref(props.number) or {}
  local size, err = int_param(q, "page[size]", size_s.default or size_s.example or 20,
    tointeger(size_s.minimum) or 1, tointeger(size_s.maximum) or PAGE_SIZE_LIMIT)
  if not size then return nil, nil, err, "page[size]" end
  local number
  -- The cap only keeps (number - 1) * size far from integer overflow.
  number, err = int_param(q, "page[number]", num_s.default or 1, tointeger(num_s.minimum) or 1, 1000000000)
  if not number then return nil, nil, err, "page[number]" end
  return size, number
end

local function field_getter(path)
  local parts = {}
  for part in gmatch(path, "[^.]+") do parts[#parts + 1] = part end
  return function(rec)
    local v = rec.data[parts[1]]
    if v == nil then v = rec.extra[parts[1]] end
    for i = 2, #parts do
      if type(v) ~= "table" then return nil end
      v = v[parts[i]]
    end
    if v == NULL then return nil end
    return v
  end
end

-- The schema of filter[field] (or filter[field][op]) among a oneOf's alternatives.
local function filter_schema(api, fs, opname)
  local alternatives = fs.oneOf or fs.anyOf or {fs}
  for _, alt in ipairs(alternatives) do
    alt = api.deref(alt)
    local is_object = alt.type == "object" or (alt.type == nil and alt.properties ~= nil)
    if opname and is_object and alt.properties and alt.properties[opname] then
      return api.deref(alt.properties[opname])
    elseif not opname and not is_object then
      return alt
    end
  end
  return nil
end

local COMPARE = {
  eq = function(a, b) return a == b end,
  gt = function(a, b) return a > b end,
  lt = function(a, b) return a < b end,
  gte = function(a, b) return a >= b end,
  lte = function(a, b) return a <= b end,
}

local function make_predicate(field, opname, raw, leaf)
  local path = FILTER_FIELDS[field] or field
  local get = field_getter(path)
  local op = opname or (CONTAINS_BY_DEFAULT[field] and "contains") or "eq"
  if leaf.format == "date-time" then
    local want = parse_time(raw)
    if not want then return nil, format("filter[%s] must be an ISO 8601 date-time", field) end
    local compare = COMPARE[op]
    if not compare then return nil, format("unsupported operator %s for filter[%s]", op, field) end
    return function(rec)
      local have = path == "created_at" and rec.created_ms or parse_time(get(rec))
      return have ~= nil and compare(have, want)
    end
  end
  if op == "contains" then
    local needle = lower(raw)
    return function(rec)
      local v = get(rec)
      return v ~= nil and find(lower(scalar_text(v)), needle, 1, true) ~= nil
    end
  elseif op == "startswith" then
    return function(rec)
      local v = get(rec)
      return v ~= nil and sub(scalar_text(v), 1, #raw) == raw
    end
  elseif op == "endswith" then
    return function(rec)
      local v = get(rec)
      return v ~= nil and (raw == "" or sub(scalar_text(v), -#raw) == raw)
    end
  elseif op == "eq" then
    return function(rec)
      local v = get(rec)
      return v ~= nil and scalar_text(v) == raw
    end
  end
  return nil, format("unsupported operator %s for filter[%s]", op, field)
end

-- Filters the spec lists for this operation; others are ignored, as the API does.
local function filter_predicates(op, q)
  local fp = op.params.filter
  if not fp then return {} end
  local api = state.api
  local fschema = api.deref(fp.schema)
  local props = fschema and fschema.properties or {}
  local preds = {}
  for key, value in pairs(q) do
    local field, rest = match(key, "^filter%[([^%]]+)%](.*)$")
    local fs = field and api.deref(props[field])
    if fs then
      local opname = match(rest, "^%[([^%]]+)%]$")
      if rest ~= "" and not opname then return nil, "malformed filter " .. key, key end
      local leaf = filter_schema(api, fs, opname)
      if not leaf then return nil, "unsupported filter " .. key, key end
      if leaf.enum and not enum_has(leaf.enum, value) then
        return nil, format("%s must be one of: %s", key, concat(leaf.enum, ", ")), key
      end
      local pred, err = make_predicate(field, opname, value, leaf)
      if not pred then return nil, err, key end
      preds[#preds + 1] = pred
    end
  end
  return preds
end

-- {field=, desc=} from ?sort= (checked against the spec's enum, with or without "-"),
-- else the spec's default, else creation order.
local function sort_order(op, q)
  local sp = op.params.sort
  if not sp then return {field = "created_at", desc = false} end
  local s = state.api.deref(sp.schema) or {}
  local value = q.sort
  if value == nil or value == "" then value = s.default or "created_at" end
  local desc = sub(value, 1, 1) == "-"
  local field = desc and sub(value, 2) or value
  if s.enum and not (enum_has(s.enum, field) or enum_has(s.enum, "-" .. field)) then
    local names = {}
    for _, x in ipairs(s.enum) do names[#names + 1] = x end
    return nil, "sort must be one of: " .. concat(names, ", ")
  end
  return {field = field, desc = desc}
end

-- Sort keys: missing < false < true < numbers < strings; ties keep creation order.
local function sort_key(v)
  if v == nil then return 0, 0 end
  local t = type(v)
  if t == "boolean" then return 1, v and 1 or 0 end
  if t == "number" then return 2, v end
  return 3, tostring(v)
end

local function sorted_copy(items, order)
  local get = field_getter(order.field)
  local decorated = {}
  for i, rec in ipairs(items) do
    local rank, key = sort_key(get(rec))
    decorated[i] = {rank, key, rec.seq, rec}
  end
  local desc = order.desc
  sort(decorated, function(a, b)
    if a[1] ~= b[1] then if desc then return a[1] > b[1] end return a[1] < b[1] end
    if a[2] ~= b[2] then if desc then return a[2] > b[2] end return a[2] < b[2] end
    if desc then return a[3] > b[3] end
    return a[3] < b[3]
  end)
  local out = {}
  for i, d in ipairs(decorated) do out[i] = d[4] end
  return out
end

local function h_list(op, req)
  local res, q = op.res, req.query_params
  local size, number, err, param = page_params(op, q)
  if not size then return error_response(op, 422, err, {parameter = param}) end
  local preds
  preds, err, param = filter_predicates(op, q)
  if not preds then return error_response(op, 422, err, {parameter = param}) end
  local order
  order, err = sort_order(op, q)
  if not order then return error_response(op, 422, err, {parameter = "sort"}) end

  local selected = store_items(res)
  if #preds > 0 then
    local kept = {}
    for _, rec in ipairs(selected) do
      local ok = true
      for _, pred in ipairs(preds) do
        if not pred(rec) then ok = false break end
      end
      if ok then kept[#kept + 1] = rec end
    end
    selected = kept
  end
  -- created_at order is insertion order: page straight out of the array.
  local reverse = false
  if order.field == "created_at" then reverse = order.desc
  else selected = sorted_copy(selected, order) end

  local total = #selected
  local parts = {}
  for i = (number - 1) * size + 1, min(total, number * size) do
    local rec = selected[reverse and total - i + 1 or i]
    settle(res, rec)
    parts[#parts + 1] = record_json(rec)
    -- Every 50 records the loop may look at the sockets (each half millisecond at most): a
    -- request that arrived meanwhile is timed from then, not from when this page is done, so
    -- the latency of a burst's requests does not grow by the mock's own busy time.
    if #parts % 50 == 0 and coroutine.isyieldable() then coroutine.yield("poll") end
  end
  local values = {page_number = number, page_size = size, total_results = total,
                  total_pages = (total + size - 1) // size}
  local meta = {}
  for _, field in ipairs(res.meta_fields) do meta[field] = values[field] end
  return json_response(200, '{"data":[' .. concat(parts, ",") .. '],"meta":' .. json_encode(meta) .. "}")
end

return {h_list = h_list}
