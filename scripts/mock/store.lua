-- Records and their stores, one per resource: creating a record from a request body (defaults,
-- generated fields), updating, deleting, and bulk seeding (POST /__mock/seed).

local util = require "mock.util"
local schemas = require "mock.schema"
local resource_rules = require "mock.rules"
local state = require("mock.state").state

local NULL, now_ms, iso8601, EMPTY_ARRAY, json_encode, deep_copy =
  util.NULL, util.now_ms, util.iso8601, util.EMPTY_ARRAY, util.json_encode, util.deep_copy
local type_set, normalize = schemas.type_set, schemas.normalize
local GENERATED = resource_rules.GENERATED

local sort = table.sort
local format, match = string.format, string.match
local floor, max = math.floor, math.max

local function new_store()
  return {items = {}, by_id = {}, unique = {}, holes = 0, seed_counter = 0}
end

local function store_insert(res, rec)
  local st = res.store
  st.items[#st.items + 1] = rec
  st.by_id[rec.id] = rec
  if res.rules.unique then st.unique[rec.data[res.rules.unique]] = rec end
end

-- Deletion only marks; the array is compacted at the next list, so deleting many
-- records is not quadratic.
local function store_delete(res, rec)
  local st = res.store
  rec.deleted = true
  st.by_id[rec.id] = nil
  if res.rules.unique then st.unique[rec.data[res.rules.unique]] = nil end
  st.holes = st.holes + 1
end

local function store_items(res)
  local st = res.store
  if st.holes > 0 then
    local kept = {}
    for _, rec in ipairs(st.items) do
      if not rec.deleted then kept[#kept + 1] = rec end
    end
    st.items, st.holes = kept, 0
  end
  return st.items
end

local function record_context(res, at_ms)
  return {res = res, rng = state.rng, state = state, now = now_ms(), stamp = iso8601(at_ms)}
end

-- Each schema's properties, resolved once, in a fixed order so that generators
-- draw from the PRNG in the same order in every interpreter (pairs order is not
-- stable across runs): {name=, schema=, required=, default= (filled lazily)}.
local plans = setmetatable({}, {__mode = "k"})
local function schema_plan(api, schema)
  local plan = plans[schema]
  if plan then return plan end
  local required = {}
  for _, name in ipairs(schema.required or {}) do required[name] = true end
  plan = {}
  for name, ps in pairs(schema.properties or {}) do
    plan[#plan + 1] = {name = name, schema = api.deref(ps), required = required[name] == true}
  end
  sort(plan, function(a, b) return a.name < b.name end)
  plans[schema] = plan
  return plan
end

local fill_object
local NO_RULES = {}

-- A property the body did not give: the schema default; else, for a required
-- enum, its first value; else a nested object of defaults, [] or false; else null.
-- Worked out once per property, copied at each use.
local function default_value(api, entry)
  local d = entry.default
  if d == nil then
    local ps = entry.schema
    local set = type_set(ps)
    if ps.default ~= nil then d = normalize(api, deep_copy(ps.default), ps)
    elseif set.null then d = NULL
    elseif ps.enum then d = entry.required and ps.enum[1] or NULL
    elseif ps.properties then d = fill_object(api, ps, nil, nil, false)
    elseif set.array then d = EMPTY_ARRAY
    elseif set.boolean then d = false
    else d = NULL end
    entry.default = d
  end
  return deep_copy(d)
end

-- The public object of a record: every property of the schema, taken from the
-- (normalized) body, else generated (top level only), else a default.
function fill_object(api, schema, given, ctx, top)
  local out = {}
  local rules = top and ctx.res.rules or NO_RULES
  local generate, defaults = rules.generate, rules.defaults
  for _, entry in ipairs(schema_plan(api, schema)) do
    local name, ps = entry.name, entry.schema
    local gen = top and (generate and generate[name] or GENERATED[name])
    local v
    if gen then
      v = gen(ctx, ps)
    else
      v = given and given[name]
      if v == nil and defaults then v = deep_copy(defaults[name]) end
      if v == nil then
        v = default_value(api, entry)
      elseif type(v) == "table" and ps.properties and rawlen(v) == 0 then
        v = fill_object(api, ps, v, ctx, false)
      end
    end
    out[name] = v
  end
  return out
end

local function new_record(res, body, at_ms)
  local api = state.api
  local ctx = record_context(res, at_ms)
  normalize(api, body, res.item)
  local data = fill_object(api, res.item, body, ctx, true)
  local extra = {}
  for k, v in pairs(body) do
    if res.item.properties[k] == nil then extra[k] = v end
  end
  state.seq = state.seq + 1
  local rec = {id = data.id, seq = state.seq, created_ms = at_ms, data = data, extra = extra}
  if res.rules.finish then res.rules.finish(rec, ctx) end
  return rec
end

local function merge_into(api, dst, src, schema)
  for k, v in pairs(src) do
    local ps = schema.properties and api.deref(schema.properties[k])
    if ps and ps.properties and type(v) == "table" and rawlen(v) == 0 and type(dst[k]) == "table" then
      merge_into(api, dst[k], v, ps)
    else
      dst[k] = v
    end
  end
end

local function update_record(res, rec, body)
  local api = state.api
  local ctx = record_context(res, now_ms())
  local patch = {}
  for k, v in pairs(body) do
    if GENERATED[k] then               -- ids and timestamps are the server's
    elseif res.item.properties[k] then patch[k] = v
    else rec.extra[k] = v end
  end
  merge_into(api, rec.data, normalize(api, patch, res.item), res.item)
  if res.item.properties.updated_at then rec.data.updated_at = ctx.stamp end
  if res.rules.finish then res.rules.finish(rec, ctx) end
  rec.json = nil
end

-- Access IP entries are "pending" in the create answer and "added" once read.
local function settle(res, rec)
  if res.rules.settles and rec.data.status == "pending" then
    rec.data.status = "added"
    rec.json = nil
  end
end

local function record_json(rec)
  local text = rec.json
  if not text then
    text = json_encode(rec.data)
    rec.json = text
  end
  return text
end

-- Bulk seeding (POST /__mock/seed): valid bodies made from the create schema.

local function nth_ipv4(base, n)
  local v = base + n
  return format("%d.%d.%d.%d", v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255)
end

local SEED_VALUES = {
  ip_address = function(n) return nth_ipv4(10 << 24, n) end,                 -- 10.0.0.1 ...
  cidr_block = function(n) return nth_ipv4(10 << 24, n * 256) .. "/24" end,  -- 10.0.1.0/24 ...
}

local function sample_value(api, name, ps, n, res)
  ps = api.deref(ps)
  local gen = SEED_VALUES[name]
  if gen then return gen(n) end
  if ps.enum then
    for _, x in ipairs(ps.enum) do if x ~= NULL then return x end end
  end
  local set = type_set(ps)
  if ps.properties then
    local out = {}
    for _, r in ipairs(ps.required or {}) do out[r] = sample_value(api, r, ps.properties[r], n, res) end
    return out
  end
  if ps.default ~= nil and ps.default ~= NULL then return deep_copy(ps.default) end
  local named = match(name, "name$") or name == "identifier"
  if type(ps.example) == "string" then return named and format("%s-%d", ps.example, n) or ps.example end
  if ps.example ~= nil and ps.example ~= NULL then return deep_copy(ps.example) end
  if set.boolean then return true end
  if set.integer or set.number then return n end
  return format("%s-%d", res.name, n)
end

-- The create-body fields a seeded record gets: the required ones and the names.
local function seed_fields(res)
  if res.seed_fields then return res.seed_fields end
  local schema = res.ops.create and res.ops.create.body_schema
  local fields = {}
  for _, entry in ipairs(schema and schema_plan(state.api, schema) or {}) do
    if entry.required or match(entry.name, "name$") or entry.name == "identifier" then
      fields[#fields + 1] = entry
    end
  end
  res.seed_fields = fields
  return fields
end

local function seed_body(res, n)
  local body = {}
  for _, entry in ipairs(seed_fields(res)) do
    body[entry.name] = sample_value(state.api, entry.name, entry.schema, n, res)
  end
  return body
end

local function seed_records(res, count)
  local st = res.store
  local unique = res.rules.unique
  -- Seeded records are spread over the last `count` ms, so created_at filters
  -- and sorts have something to bite on.
  local first = max(state.last_stamp + 1, floor(now_ms()) - count)
  for i = 1, count do
    local body
    repeat
      st.seed_counter = st.seed_counter + 1
      body = seed_body(res, st.seed_counter)
    until not unique or not st.unique[body[unique]]
    local rec = new_record(res, body, first + i - 1)
    if res.rules.settles then rec.data.status = "added" end
    store_insert(res, rec)
  end
  state.last_stamp = max(state.last_stamp, first + count - 1)
end

return {new_store = new_store, store_insert = store_insert, store_delete = store_delete,
        store_items = store_items, new_record = new_record, update_record = update_record,
        settle = settle, record_json = record_json, seed_records = seed_records}
