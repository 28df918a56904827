-- Serving the whole spec's operations (those outside the account-access subset, which keeps
-- its own handlers): create, list, retrieve, update and delete on one store per collection
-- (named by its template, "/messaging_profiles"), lists paged by their pagination kind, and a
-- spec-valid answer from the schemas and examples for every other operation.
--
-- An id the store has never seen is taken as a record that already exists in the account: it
-- is made from the record schema on first use (so any id works); a deleted id answers 404.

local util = require "mock.util"
local operation = require "mock.operation"
local validate = require "mock.validate"
local pagination = require "mock.pagination"
local synth = require "mock.synth"
local responses = require "mock.responses"
local state = require("mock.state").state

local json_encode, deep_copy, now_ms, iso8601 = util.json_encode, util.deep_copy, util.now_ms, util.iso8601
local describe = operation.describe
local check_request = validate.check_request
local error_response, json_response = responses.error_response, responses.json_response

local format = string.format
local tointeger = math.tointeger

-- Collections: their record schema and id field, worked out once.

local function collection_info(c)
  if c.record_schema ~= nil then return c end
  local schema
  for _, op in ipairs(c.items) do
    if op.method == "GET" then schema = describe(op).record_schema end
  end
  if not schema and c.list then
    describe(c.list)
    schema = c.list.list and c.list.list.item_schema
  end
  if not schema and c.create then schema = describe(c.create).record_schema end
  c.record_schema = schema or false
  local props = schema and schema.properties or {}
  local id_param = c.items[1] and c.items[1].id_param
  -- the item path's parameter names the id field, in full or by its last word
  -- ({queue_sid} -> sid), so that seeded records differ as the API's do
  local short = id_param and id_param:match("_(%w+)$")
  c.id_field = (props.id and "id") or (id_param and props[id_param] and id_param)
    or (short and props[short] and short) or nil
  local id_schema = c.id_field and c.list and c.list.api.deref(props[c.id_field])
  c.int_ids = id_schema and (id_schema.type == "integer" or id_schema.type == "number") or false
  return c
end

local function store_of(name)
  local st = state.generic_stores[name]
  if not st then
    st = {items = {}, by_id = {}, deleted = {}, holes = 0, next_id = 0}
    state.generic_stores[name] = st
  end
  return st
end

local function live_items(st)
  if st.holes > 0 then
    local kept = {}
    for _, rec in ipairs(st.items) do if not rec.deleted then kept[#kept + 1] = rec end end
    st.items, st.holes = kept, 0
  end
  return st.items
end

local function fresh_id(c, st)
  st.next_id = st.next_id + 1
  if c.int_ids then return st.next_id end
  return state.rng.uuid()
end

local function id_text(v)
  if type(v) == "number" then return format("%d", tointeger(v) or v) end
  return tostring(v)
end

-- A record of collection `c`: the schema's example or made-up values, the id, fresh
-- timestamps, and the fields of `body` the schema has.
local function new_record(c, st, id, body)
  local api = (c.list or c.create or c.items[1]).api
  c.template_value = c.template_value
    or (c.record_schema and synth.schema_value(api, c.record_schema))
    or {record_type = "mock"}
  local data = type(c.template_value) == "table" and deep_copy(c.template_value) or {}
  local props = c.record_schema and c.record_schema.properties or nil
  if type(body) == "table" then
    for k, v in pairs(body) do
      if props == nil or props[k] ~= nil then data[k] = v end
    end
  end
  id = id or fresh_id(c, st)
  if c.id_field or not c.record_schema then data[c.id_field or "id"] = id end
  local stamp = iso8601(now_ms())
  if props and props.created_at then data.created_at = stamp end
  if props and props.updated_at then data.updated_at = stamp end
  local rec = {id = id_text(id), data = data}
  st.items[#st.items + 1] = rec
  st.by_id[rec.id] = rec
  return rec
end

local function seed(name, count)
  local c = state.catalog.collections[name]
  if not c then return nil, "no collection " .. name end
  collection_info(c)
  local st = store_of(name)
  for _ = 1, count do new_record(c, st, nil, nil) end
  return #live_items(st)
end

-- Answers

local function encode_answer(op, value)
  return json_response(op.success, json_encode(value))
end

local function record_answer(op, rec, status)
  if op.success == 204 or not op.media_type then return {status = op.success, body = "", content_type = false} end
  if not op.json then return nil end
  return json_response(status or op.success, json_encode(op.wrapped and {data = rec.data} or rec.data))
end

-- The answer the spec describes, for operations without a store.
local function spec_answer(op)
  if op.success == 204 or not op.media_type then
    return {status = op.success, body = "", content_type = false}
  end
  if not op.answer_body then
    local api = op.api
    if op.json then
      local value = synth.media_example(api, op.media)
      if value == nil then value = synth.schema_value(api, op.response_schema) end
      op.answer_body = json_encode(value)
    else
      op.answer_body = synth.bytes_for(api, op.media_type, op.media)
    end
  end
  return {status = op.success, body = op.answer_body,
          content_type = op.json and "application/json" or synth.concrete_type(op.media_type)}
end

local function h_list(op, req, c)
  collection_info(c)
  local st = store_of(op.template)
  local info = op.list
  local d = op.api.deref
  local value, err, param = pagination.page(info.kind, live_items(st), req.query_params, {
    size_schema = function(name) return op.query[name] and d(op.query[name].schema) end,
    path = req.path, top_level = info.key == nil,
  })
  if value == nil then return error_response(op, 422, err, {parameter = param}) end
  -- records as they are: the page holds the stored tables, encoded once per answer
  if type(value) == "table" then
    local items = info.key and value[info.key] or value
    if type(items) == "table" then
      for i, rec in ipairs(items) do items[i] = rec.data end
    end
  end
  return encode_answer(op, value)
end

local function find(c, st, op, id)
  local rec = st.by_id[id]
  if rec then return rec end
  if st.deleted[id] then
    return nil, error_response(op, 404, format("No record found with id %s.", id))
  end
  local given = id
  if c.int_ids then given = tointeger(tonumber(id)) or id end
  return new_record(c, st, given, nil)   -- taken as existing before the mock started
end

local function h_item(op, body, c, id)
  collection_info(c)
  local st = store_of(c.name)
  local rec, problem = find(c, st, op, id)
  if not rec then return problem end
  if op.method == "DELETE" then
    rec.deleted = true
    st.by_id[id], st.deleted[id] = nil, true
    st.holes = st.holes + 1
  elseif (op.method == "PATCH" or op.method == "PUT") and type(body) == "table" then
    local props = c.record_schema and c.record_schema.properties or nil
    for k, v in pairs(body) do
      if k ~= c.id_field and (props == nil or props[k] ~= nil) then rec.data[k] = v end
    end
    if props and props.updated_at then rec.data.updated_at = iso8601(now_ms()) end
  end
  return record_answer(op, rec) or spec_answer(op)
end

local function h_create(op, body, c)
  collection_info(c)
  local rec = new_record(c, store_of(c.name), nil, body)
  if op.record_schema then return record_answer(op, rec) end
  return spec_answer(op)
end

-- Serves a request for `op` (a catalog operation), `params` its path parameters in order.
local function serve(op, req, params)
  describe(op)
  local problem, body = check_request(op, req)
  if problem then return problem end
  local collections = state.catalog.collections
  if op.item_of then
    return h_item(op, body, collections[op.item_of], params[#params])
  end
  local c = collections[op.template]
  if op.method == "GET" and op.list then return h_list(op, req, c) end
  if op.method == "POST" and c and c.create == op and (c.items[1] or (c.list and describe(c.list).list)) then
    return h_create(op, body, c)
  end
  return spec_answer(op)
end

-- Can POST /__mock/seed fill this collection (one with a list)?
local function seedable(name)
  local c = state.catalog.collections[name]
  return c ~= nil and c.list ~= nil and describe(c.list).list ~= nil
end

return {serve = serve, seed = seed, seedable = seedable}
