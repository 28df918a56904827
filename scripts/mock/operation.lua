-- What one operation of the whole spec needs from its schemas, worked out on its first request
-- and kept on it: query and header parameters, the request body's media types and schemas,
-- the success status and the media type, schema and example of its answer, whether the answer
-- wraps a record in `data`, and, for lists, the pagination kind and the items' schema.

local pagination = require "mock.pagination"
local synth = require "mock.synth"

local sort = table.sort
local match = string.match

local KINDS = pagination.KINDS

local function success_status(raw)
  local best
  for code in pairs(raw.responses or {}) do
    local n = tonumber(code)
    if n and n >= 200 and n < 300 and (not best or n < best) then best = n end
  end
  return best or 200
end

-- The media type to answer with: JSON when declared, else the first in name order.
local function pick_media(content)
  if type(content) ~= "table" then return nil end
  if content["application/json"] then return "application/json", content["application/json"] end
  local names = {}
  for name in pairs(content) do names[#names + 1] = name end
  sort(names)
  if names[1] then return names[1], content[names[1]] end
  return nil
end

local function is_array_schema(s)
  return type(s) == "table" and (s.type == "array" or (type(s.type) == "table" and s.type[1] == "array")
    or (s.type == nil and s.items ~= nil))
end

-- The list an operation answers with, if any: {kind=, key= (nil: the body is the array),
-- item_schema=}.
local function list_info(op, d, schema)
  local kind = op.kind
  local k = kind and KINDS[kind]
  if op.method ~= "GET" then return nil end
  if k then
    local key = match(kind, "TopLevelArray$") and nil
      or (kind == "DefaultPaginationForLogMessages" and "log_messages")
      or ((kind == "DefaultPaginationForMessagingTollfree" or kind == "PerPagePaginationV2") and "records")
      or (kind == "DefaultPaginationForQueues" and "queues") or "data"
    local arr = schema and (key and schema.properties and d(schema.properties[key]) or (not key and schema))
    return {kind = kind, key = key, item_schema = arr and d(arr.items)}
  end
  if not schema then return nil end
  local arr, key
  if is_array_schema(schema) then arr = schema
  elseif schema.properties and schema.properties.data then
    local data = d(schema.properties.data)
    if is_array_schema(data) then arr, key = data, "data" end
  end
  if not arr then return nil end
  local paged = op.query["page[number]"] or op.query.page and op.query.page.deep
  kind = paged and "DefaultFlatPagination" or (op.query.page_number and
    "DefaultFlatPaginationForInexplicitNumberOrders") or "unpaged"
  if kind == "DefaultFlatPagination" and not key then kind = "DefaultFlatPaginationTopLevelArray" end
  return {kind = kind, key = key, item_schema = d(arr.items)}
end

local function describe(op)
  if op.described then return op end
  local d = op.api.deref
  local params = {}
  for _, list in ipairs({op.path_item.parameters or {}, op.raw.parameters or {}}) do
    for _, p in ipairs(list) do
      p = d(p)
      if type(p) == "table" and p.name then params[(p["in"] or "") .. " " .. p.name] = p end
    end
  end
  op.query, op.required_query, op.required_headers = {}, {}, {}
  for _, p in pairs(params) do
    local where = p["in"]
    if where == "query" then
      local schema = d(p.schema) or {}
      local deep = p.style == "deepObject" or schema.type == "object" or schema.properties ~= nil
      op.query[p.name] = {schema = schema, deep = deep}
      if p.required then op.required_query[#op.required_query + 1] = p.name end
    elseif where == "header" and p.required then
      op.required_headers[#op.required_headers + 1] = p.name
    end
  end
  sort(op.required_query)
  sort(op.required_headers)
  op.page_params = pagination.kind_params(op.kind)

  local rb = d(op.raw.requestBody)
  if type(rb) == "table" and type(rb.content) == "table" then
    local types = {}
    for name in pairs(rb.content) do types[#types + 1] = name end
    sort(types)
    op.body = {required = rb.required == true, content = rb.content, types = types}
  end

  op.success = success_status(op.raw)
  local r = d(op.raw.responses and op.raw.responses[tostring(op.success)])
  local media_type, media = pick_media(r and r.content)
  op.media_type, op.media = media_type, media
  op.json = media_type ~= nil and synth.is_json_type(media_type)
  local schema = media and d(media.schema)
  op.response_schema = schema
  local data = schema and schema.properties and d(schema.properties.data)
  op.wrapped = data ~= nil and not is_array_schema(data)
  op.record_schema = op.wrapped and data or (op.json and not is_array_schema(schema) and schema) or nil
  op.list = list_info(op, d, schema)
  if op.sdk_only then op.list = op.list or {kind = op.kind, key = "data"} end
  op.described = true
  return op
end

return {describe = describe}
