#!/usr/bin/env lua5.4
-- Turns the Telnyx OpenAPI spec and the official SDK's method names into the client's API
-- table (its format: scripts/build/TABLE.md): a small index,
-- lua/telnyx/resources.lua, loaded at the first resource access, and one file per top-level
-- resource, lua/telnyx/api/<top>.lua, loaded at the first access to a resource under it, so
-- the whole API costs nothing at start. Long operation descriptions go to
-- lua/telnyx/doc/<top>.lua, for help only. Resources are data, not code: adding an endpoint
-- is regenerating these files.
--
--   telnyx-lua scripts/build/gen-resources.lua [--spec FILE] [--names TSV] [--out DIR] [--check]
--
-- Every operation of the spec is bound under the official SDK's resource and method name
-- (official-sdk-methods.tsv, joined on HTTP method and path); one the TSV lacks is named by the
-- rules below. Two operations under one name, or a method named like a child resource, fail
-- the generation. An operation no HTTP client can call (WebSocket) or whose shape the rules do
-- not cover is listed in the index's `unbound`, with the reason (the latter also warned on
-- stderr with the file and JSON pointer).
--
-- Exit status: 0 written or up to date; 1 --check found the files stale; 2 bad usage, a spec
-- that cannot be read at all, or a name collision.
--
-- Loaded with loadfile() from anywhere but the command line (the specs do), the chunk returns
-- its functions instead of running.

-- The shared OpenAPI loader and resolver, found beside this file wherever it is run from.
local HERE = debug.getinfo(1, "S").source:match("^@(.+)/[^/]*$") or "."
local openapi = dofile(HERE .. "/openapi.lua")
local literal = dofile(HERE .. "/lua-literal.lua")
local genfiles = dofile(HERE .. "/genfiles.lua")
local shell_quote, sha256_of = genfiles.shell_quote, genfiles.sha256_of

local DEFAULT_SPEC = "scripts/build/telnyx-openapi-spec3.json"
local DEFAULT_NAMES = "scripts/build/official-sdk-methods.tsv"
local DEFAULT_OUT = "lua/telnyx"
local GENERATOR = "scripts/build/gen-resources.lua"

-- Recursive schemas (a filter made of filters) would flatten forever; deeper than this is
-- noise for a query string or a type name anyway.
local MAX_DEPTH = 8

-- operationId -> { resource = "a.b", method = "m" } for endpoints neither the TSV nor the
-- naming rules name well. None needed today.
local OVERRIDES = {}

-- Stable order in which a path item's operations are visited.
local VERBS = { "delete", "get", "head", "options", "patch", "post", "put", "trace" }

-- Naming rules (see name_operation). Verbs missing here have no rule: override or skip.
local COLLECTION = { post = "create", put = "update", patch = "update", delete = "delete" }
local ITEM = { get = "retrieve", put = "update", patch = "update", delete = "delete" }
local SUBPATH = { post = "create", put = "update", patch = "update", delete = "delete" }

-- Header parameters OpenAPI says to ignore: the client sets these itself.
local RESERVED_HEADERS = { accept = true, ["content-type"] = true, authorization = true }

----------------------------------------------------------------------------------------------
-- Small helpers

local function tbl(v) return type(v) == "table" and v or nil end
local function str(v) return type(v) == "string" and v or nil end
local function num(v) return type(v) == "number" and v or nil end
local function scalar(v) -- not `cond and v or nil`: v may be false
  local t = type(v)
  if t == "string" or t == "number" or t == "boolean" then return v end
  return nil
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- One-line text (parameter and field descriptions, summaries): runs of whitespace become
-- one space, so help() can wrap it; nil when empty.
local function line(s)
  s = str(s)
  if not s then return nil end
  s = s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  return s ~= "" and s or nil
end

-- Long text (operation descriptions): keeps the author's line breaks, trims the ends.
local function block(s)
  s = str(s)
  if not s then return nil end
  s = s:gsub("\r\n?", "\n"):gsub("^%s+", ""):gsub("%s+$", "")
  return s ~= "" and s or nil
end

-- "a|b" unions without repeats, in first-seen order, "null" last.
local function union(types)
  local seen, parts, nullable = {}, {}, false
  for _, t in ipairs(types) do
    for part in t:gmatch("[^|]+") do
      if part == "null" then
        nullable = true
      elseif not seen[part] then
        seen[part] = true
        parts[#parts + 1] = part
      end
    end
  end
  if nullable then parts[#parts + 1] = "null" end
  return #parts > 0 and table.concat(parts, "|") or "any"
end

----------------------------------------------------------------------------------------------
-- Errors and warnings. A problem in the input is raised as a SpecError carrying the JSON
-- pointer (scripts/build/openapi.lua), so deep helpers stay simple; build() turns it into a
-- warning for the one operation it occurred in, and main() into exit status 2 when the
-- document as a whole is unusable.

local SpecError, fail, json_type, show, child, resolve =
  openapi.SpecError, openapi.fail, openapi.json_type, openapi.show, openapi.child, openapi.resolve

local function warn(ctx, where, fmt, ...)
  ctx.warnings[#ctx.warnings + 1] = ctx.file .. where .. ": " .. fmt:format(...)
end

----------------------------------------------------------------------------------------------
-- Schemas ($ref and allOf are resolved by openapi.resolve)

-- oneOf/anyOf alternatives as a list of { schema, pointer }, or nil when there are none.
local function alternatives(ctx, s, ptr)
  for _, key in ipairs({ "oneOf", "anyOf" }) do
    local list = tbl(s[key])
    if list and list[1] ~= nil then
      local out = {}
      for i, alt in ipairs(list) do
        local a, aptr = resolve(ctx, alt, child(ptr, key, i - 1))
        out[#out + 1] = { a, aptr }
      end
      return out
    end
  end
  return nil
end

local function has_type(s, name)
  if s.type == name then return true end
  for _, t in ipairs(tbl(s.type) or {}) do
    if t == name then return true end
  end
  return false
end

local function properties(s)
  local p = tbl(s.properties)
  return p and next(p) ~= nil and p or nil
end

-- "string", "integer|null", "array", "object", "string|object"; "any" when unknown. An
-- array's element type is its entry's `items`.
local function type_name(ctx, schema, ptr, depth)
  depth = depth or 0
  if depth > MAX_DEPTH then return "any" end
  local s, sptr = resolve(ctx, schema, ptr)
  local alts = alternatives(ctx, s, sptr)
  if alts then
    local types = {}
    for _, a in ipairs(alts) do types[#types + 1] = type_name(ctx, a[1], a[2], depth + 1) end
    return union(types)
  end
  local declared = s.type
  if type(declared) == "string" then declared = { declared } end
  local types = {}
  for _, t in ipairs(tbl(declared) or {}) do
    if type(t) == "string" then types[#types + 1] = t end
  end
  if #types == 0 then
    if properties(s) or tbl(s.additionalProperties) then
      types[1] = "object"
    elseif tbl(s.items) then
      types[1] = "array"
    else -- untyped enum/const: name the type of its values
      local v = scalar(s.const)
      if v == nil and tbl(s.enum) then v = scalar(s.enum[1]) end
      if v ~= nil then types[1] = type(v) end
    end
  end
  if s.nullable == true then types[#types + 1] = "null" end -- OpenAPI 3.0 spelling
  return union(types)
end

local object_fields

-- The attributes help() shows and the client may check (TABLE.md's <param>): type, format,
-- enum, default, the numeric and length bounds, pattern, example (scalars only), description,
-- deprecated. A keyword missing on the schema is taken from its first oneOf/anyOf alternative
-- that has it. With `nest` (body fields), arrays get `items` and objects their `fields`, or
-- `additional` when they take any keys; `nest` holds the schemas being expanded, so a
-- recursive one stops at its second appearance.
local function describe(ctx, schema, ptr, nest)
  local s, sptr = resolve(ctx, schema, ptr)
  local alts = alternatives(ctx, s, sptr) or {}
  local function pick(key, accept)
    local v = accept(s[key])
    if v ~= nil then return v end
    for _, a in ipairs(alts) do
      v = accept(a[1][key])
      if v ~= nil then return v end
    end
    return nil
  end
  local e = { type = type_name(ctx, s, sptr) }
  e.format = pick("format", str)
  local enum = pick("enum", tbl)
  if enum then
    e.enum = {}
    for _, v in ipairs(enum) do
      if scalar(v) ~= nil then e.enum[#e.enum + 1] = v end -- null in an enum means nullable
    end
    if #e.enum == 0 then e.enum = nil end
  elseif scalar(s.const) ~= nil then
    e.enum = { s.const }
  end
  e.default = pick("default", scalar)
  e.minimum = pick("minimum", num)
  e.maximum = pick("maximum", num)
  -- OpenAPI 3.1 gives the bound itself; 3.0 a boolean qualifying minimum/maximum
  local xmin, xmax = pick("exclusiveMinimum", function(v) return v end),
                     pick("exclusiveMaximum", function(v) return v end)
  if num(xmin) then e.exclusive_minimum = xmin
  elseif xmin == true and e.minimum then e.exclusive_minimum, e.minimum = e.minimum, nil end
  if num(xmax) then e.exclusive_maximum = xmax
  elseif xmax == true and e.maximum then e.exclusive_maximum, e.maximum = e.maximum, nil end
  e.min_length = pick("minLength", num)
  e.max_length = pick("maxLength", num)
  e.min_items = pick("minItems", num)
  e.max_items = pick("maxItems", num)
  e.pattern = pick("pattern", str)
  e.example = pick("example", scalar)
  e.description = line(pick("description", str))
  if s.deprecated == true then e.deprecated = true end
  if nest and not nest[sptr] and (nest.depth or 0) < MAX_DEPTH then
    nest[sptr], nest.depth = true, (nest.depth or 0) + 1
    local items = tbl(s.items)
    if not items then
      for _, a in ipairs(alts) do
        items = tbl(a[1].items)
        if items then items = { items, child(a[2], "items") }; break end
      end
    else
      items = { items, child(sptr, "items") }
    end
    if items then e.items = describe(ctx, items[1], items[2], nest) end
    local fields = object_fields(ctx, s, sptr, nest)
    if #fields > 0 then e.fields = fields end
    nest[sptr], nest.depth = nil, nest.depth - 1
  elseif not nest and tbl(s.items) then -- a query array: its element type, one level
    e.items = describe(ctx, s.items, child(sptr, "items"), { depth = MAX_DEPTH - 1 })
  end
  local extra = s.additionalProperties
  if extra == true or tbl(extra) or (e.type:find("object", 1, true) and not e.fields
                                      and not properties(s) and extra == nil) then
    e.additional = true
  end
  return e, s
end

-- The properties of an object schema, plus the union of its object alternatives', as <param>s
-- sorted by name; a field counts as required only when every alternative requires it (a false
-- "required" would refuse valid requests); readOnly ones are left out (the server sets them).
-- Also returns the required names, sorted.
function object_fields(ctx, s, sptr, nest)
  local fields, required = {}, {}
  local function add_fields(v, vptr)
    for _, key in ipairs(sorted_keys(properties(v) or {})) do
      if fields[key] == nil then
        local e, fs = describe(ctx, v.properties[key], child(vptr, "properties", key), nest)
        if fs.readOnly == true then
          fields[key] = false
        else
          e.name = key
          fields[key] = e
        end
      end
    end
  end
  local function required_set(v)
    local set = {}
    for _, r in ipairs(tbl(v.required) or {}) do
      if type(r) == "string" then set[r] = true end
    end
    return set
  end
  add_fields(s, sptr)
  for r in pairs(required_set(s)) do required[r] = true end
  local alts = alternatives(ctx, s, sptr)
  if alts then
    local counts = {}
    for _, a in ipairs(alts) do
      add_fields(a[1], a[2])
      for r in pairs(required_set(a[1])) do counts[r] = (counts[r] or 0) + 1 end
    end
    for r, n in pairs(counts) do
      if n == #alts then required[r] = true end
    end
  end
  local list, names = {}, {}
  for _, key in ipairs(sorted_keys(required)) do
    if fields[key] ~= false then names[#names + 1] = key end
  end
  for _, key in ipairs(sorted_keys(fields)) do
    local e = fields[key]
    if e then
      e.required = required[key] == true
      list[#list + 1] = e
    end
  end
  return list, names
end

----------------------------------------------------------------------------------------------
-- Query parameters

-- Adds the wire-level entries of one schema under `name` to `out` (name -> entry). With
-- `nested` (deepObject), objects recurse into name[prop]; anything else is a leaf. A oneOf of
-- a string and an object, as the filters use, yields both filter[x] and filter[x][op].
local function flatten(ctx, out, name, schema, ptr, required, nested, depth)
  local s, sptr = resolve(ctx, schema, ptr)
  local alts = alternatives(ctx, s, sptr) or { { s, sptr } }
  local leaves = {}
  for _, a in ipairs(alts) do
    local v, vptr = a[1], a[2]
    local props = nested and properties(v)
    if props and depth < MAX_DEPTH then
      local req = {}
      for _, r in ipairs(tbl(v.required) or {}) do req[r] = true end
      for _, key in ipairs(sorted_keys(props)) do
        flatten(ctx, out, name .. "[" .. key .. "]", props[key], child(vptr, "properties", key),
                required and req[key] == true, nested, depth + 1)
      end
    else
      if props then warn(ctx, vptr, "query object nested deeper than %d levels kept whole", MAX_DEPTH) end
      leaves[#leaves + 1] = v
    end
  end
  if #leaves == 0 then return end
  local leaf = s
  if #leaves < #alts then -- only the scalar alternatives describe this wire name
    leaf = copy(s)
    leaf.oneOf, leaf.anyOf = leaves, nil
  end
  local e = describe(ctx, leaf, sptr)
  e.name, e.required = name, required == true
  local prev = out[name]
  if prev then -- declared twice (flat and deepObject spellings): one wire name, both types
    prev.type = union({ prev.type, e.type })
    prev.required = prev.required or e.required
  else
    out[name] = e
  end
end

-- Path-item parameters apply to every operation; the operation's own override them by
-- (name, in).
local function parameters_of(ctx, shared, own, sptr, optr)
  local list, index = {}, {}
  local function add(params, ptr)
    for i, p in ipairs(tbl(params) or {}) do
      local pp = child(ptr, "parameters", i - 1)
      local param, rptr = resolve(ctx, p, pp)
      local key = tostring(param["in"]) .. " " .. tostring(param.name)
      if index[key] then
        list[index[key]] = { param, rptr }
      else
        list[#list + 1] = { param, rptr }
        index[key] = #list
      end
    end
  end
  add(shared, sptr)
  add(own, optr)
  return list
end

-- The query parameters (wire names, sorted) and the declared headers (nil when none).
local function query_of(ctx, params)
  local out, headers = {}, {}
  for _, entry in ipairs(params) do
    local p, pptr = entry[1], entry[2]
    local name, where = str(p.name), p["in"]
    if not name then fail(ctx, pptr, "parameter without a name") end
    if where == "query" then
      local schema, sptr = tbl(p.schema), child(pptr, "schema")
      if not schema then -- a "content" parameter: a serialized value under one name
        local content = tbl(p.content) or {}
        local ctype = sorted_keys(content)[1]
        schema = ctype and tbl(content[ctype]) and tbl(content[ctype].schema) or {}
        sptr = child(pptr, "content", ctype or "", "schema")
      end
      local style = p.style or "form"
      local s = resolve(ctx, schema, sptr)
      local before = out[name]
      if style == "deepObject" then
        flatten(ctx, out, name, schema, sptr, p.required == true, true, 0)
      elseif style == "form" and p.explode ~= false and properties(s) then
        -- an exploded form object sends each property as its own key
        local req = {}
        for _, r in ipairs(tbl(s.required) or {}) do req[r] = true end
        for _, key in ipairs(sorted_keys(properties(s))) do
          flatten(ctx, out, key, s.properties[key], child(sptr, "properties", key),
                  p.required == true and req[key] == true, false, 0)
        end
      else
        flatten(ctx, out, name, schema, sptr, p.required == true, false, 0)
      end
      -- the parameter object's own words describe its top-level wire name best
      local e = out[name]
      if e and e ~= before then
        e.description = line(p.description) or e.description
        if scalar(p.example) ~= nil then e.example = p.example end
        if p.deprecated == true then e.deprecated = true end
      end
    elseif where == "header" then
      if not RESERVED_HEADERS[name:lower()] then
        local e = describe(ctx, tbl(p.schema) or {}, child(pptr, "schema"))
        e.name, e.required = name, p.required == true
        e.description = line(p.description) or e.description
        if p.deprecated == true then e.deprecated = true end
        headers[#headers + 1] = e
      end
    elseif where == "cookie" and p.required == true then
      warn(ctx, pptr, "required cookie parameter %q is not modelled; callers must pass it in opts.headers",
           name)
    elseif where ~= "path" and where ~= "cookie" then
      warn(ctx, pptr, "parameter %q has unknown location %s; ignored", name, show(where))
    end
  end
  local list = {}
  for _, key in ipairs(sorted_keys(out)) do list[#list + 1] = out[key] end
  table.sort(headers, function(a, b) return a.name < b.name end)
  return list, headers[1] and headers or nil
end

----------------------------------------------------------------------------------------------
-- Request and response bodies

-- JSON when offered, else the first of the others in byte order, so the choice is stable.
local function pick_content_type(content)
  local keys = sorted_keys(content)
  for _, k in ipairs(keys) do
    if k == "application/json" then return k end
  end
  for _, k in ipairs(keys) do
    if k:find("json", 1, true) then return k end
  end
  return keys[1]
end

-- What a 2xx body of this media type is to the client.
local function response_kind(ctype)
  if not ctype then return "none" end
  if ctype:find("json", 1, true) then return "json" end
  if ctype:match("^text/") then return "text" end
  return "binary"
end

local function body_of(ctx, op, optr)
  if op.requestBody == nil then return nil end
  local rb, rbptr = resolve(ctx, op.requestBody, child(optr, "requestBody"))
  local content = tbl(rb.content) or {}
  local ctype = pick_content_type(content)
  -- "*/*" takes anything: the client sends raw bytes
  local body = { content_type = (ctype == "*/*" or not ctype) and "application/octet-stream" or ctype,
                 optional = rb.required ~= true, required = {}, fields = {} }
  if not ctype then body.content_type = "application/json" end
  local media = ctype and tbl(content[ctype])
  if not media or not tbl(media.schema) then
    body.type = "any"
    return body
  end
  local sptr = child(rbptr, "content", ctype, "schema")
  local s
  s, sptr = resolve(ctx, media.schema, sptr)
  -- "*/*" with an object of fields: the official SDKs send the fields as JSON (raw bytes would
  -- leave no way to send them)
  if ctype == "*/*" and (has_type(s, "object") or properties(s)) then body.content_type = "application/json" end
  body.type = type_name(ctx, s, sptr)
  body.fields, body.required = object_fields(ctx, s, sptr, {})
  if body.type == "array" then -- a body that is a JSON array: its items and bounds, as a field's
    local whole = describe(ctx, media.schema, child(rbptr, "content", ctype, "schema"), {})
    body.items, body.min_items, body.max_items = whole.items, whole.min_items, whole.max_items
  end
  return body
end

-- Success statuses, and what the first success response that has a body looks like.
local function responses_of(ctx, op, optr)
  local responses = tbl(op.responses)
  if not responses then fail(ctx, optr, "operation has no responses") end
  -- With no success body, accept "*/*", as the official SDKs do for a None-returning method.
  local info = { success = {}, accept = "*/*", response = "none", wrapped = false, data_array = false,
                 meta = false, array = false }
  local keys = {}
  for _, code in ipairs(sorted_keys(responses)) do
    local n = code:match("^2%d%d$") and tonumber(code)
    if n then
      info.success[#info.success + 1] = math.tointeger(n)
      keys[#keys + 1] = code
    elseif code:match("^2[xX][xX]$") then
      warn(ctx, child(optr, "responses", code), "status range %s ignored; list 2xx codes explicitly", code)
    end
  end
  if #info.success == 0 then
    warn(ctx, child(optr, "responses"), "no 2xx response declared")
  end
  for _, code in ipairs(keys) do
    local r, rptr = resolve(ctx, responses[code], child(optr, "responses", code))
    local content = tbl(r.content)
    if content and next(content) then
      local ctype = pick_content_type(content)
      info.accept = ctype == "*" and "*/*" or ctype
      info.response = response_kind(ctype)
      local media = tbl(content[ctype])
      if media and tbl(media.schema) then
        local s, sptr = resolve(ctx, media.schema, child(rptr, "content", ctype, "schema"))
        local props = properties(s)
        info.array = has_type(s, "array")
        if props and props.data ~= nil then
          info.wrapped = true
          local data = resolve(ctx, props.data, child(sptr, "properties", "data"))
          info.data_array = has_type(data, "array")
          info.meta = props.meta ~= nil
        end
      end
      break
    end
  end
  return info
end

----------------------------------------------------------------------------------------------
-- Names

-- Path segments become Lua identifiers as the Stainless SDKs spell them: snake_case.
local function identifier(seg)
  local id = seg:gsub("(%u)(%u%l)", "%1_%2"):gsub("([%l%d])(%u)", "%1_%2"):lower()
                :gsub("[^%w_]", "_"):gsub("_+", "_"):gsub("^_", ""):gsub("_$", "")
  if id:match("^%d") then id = "_" .. id end
  return id
end

-- The path's {param}s, in path order.
local function path_params_of(path)
  local params = {}
  for p in path:gmatch("{([^{}]*)}") do params[#params + 1] = p end
  return params
end

local positional_of

-- Resource and method for an operation the TSV does not name, by the rules:
--   /x            GET list (retrieve when the body is not a list), POST create, PUT/PATCH update, DELETE delete
--   /x/{id}       GET retrieve, PUT/PATCH update, DELETE delete
--   .../actions/v (with or without an {id}) resource ".../actions", method v
--   .../{id}/y    resource ..., method <verb>_y: create_, update_, delete_, and list_ or retrieve_
-- Resource names are the literal segments joined by ".".
local function name_operation(ctx, path, verb, info, optr)
  local has_param = path:find("{", 1, true) ~= nil
  local literals = {}
  for seg in path:gmatch("[^/]+") do
    if seg:match("^{[^{}]+}$") then
      -- a parameter: names no resource
    elseif seg:find("[{}]") then
      fail(ctx, optr, "path segment %q mixes text and a parameter; add an override", seg)
    else
      local id = identifier(seg)
      if id == "" then fail(ctx, optr, "path segment %q gives no identifier", seg) end
      literals[#literals + 1] = id
    end
  end
  if #literals == 0 then fail(ctx, optr, "path %s has no literal segment to name a resource after", path) end
  local last = path:match("([^/]+)/*$")
  local n = #literals
  local function resource(upto) return table.concat(literals, ".", 1, upto) end
  local list_like = info.data_array or info.array

  local res, method
  if last and last:match("^{.*}$") then
    res, method = resource(n), ITEM[verb]
  elseif n >= 2 and literals[n - 1] == "actions" then
    res, method = resource(n - 1), literals[n]
  elseif not has_param then
    res = resource(n)
    if verb == "get" then method = list_like and "list" or "retrieve" else method = COLLECTION[verb] end
  else
    res = resource(n - 1)
    local prefix = SUBPATH[verb]
    if verb == "get" then prefix = list_like and "list" or "retrieve" end
    method = prefix and prefix .. "_" .. literals[n]
  end
  if not method then
    fail(ctx, optr, "no naming rule for %s %s; add an override", verb:upper(), path)
  end
  return res, method
end

-- The path parameter the SDK takes positionally, by its name in the path. The SDK renames
-- some ("address_uuid" for {id}, "task_id" for {taskId}): the one its name matches, else the
-- one its keyword parameters do not name, else the last.
function positional_of(path_params, sdk)
  local left = {}
  for _, p in ipairs(path_params) do
    if p == sdk.positional or identifier(p) == sdk.positional then return p end
    if not sdk.keyword[p] and not sdk.keyword[identifier(p)] then left[#left + 1] = p end
  end
  return #left == 1 and left[1] or path_params[#path_params]
end

-- official-sdk-methods.tsv: "VERB /path" -> { resource, method, positional, pagination }.
-- Returns the map, or nil and a message.
local function read_names(path)
  local text, err = openapi.read_file(path)
  if not text then return nil, "cannot read the SDK names: " .. err end
  local names, n = {}, 0
  for row in text:gmatch("[^\n]+") do
    n = n + 1
    local f = {}
    for cell in (row .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = cell end
    if #f ~= 7 then return nil, ("%s:%d: expected 7 tab-separated columns, found %d"):format(path, n, #f) end
    -- an endpoint the SDK offers under two names (an overload) is bound under the first
    local keyword = {}
    for k in f[6]:gmatch("[^,%s]+") do keyword[k] = true end
    if n > 1 and not names[f[1] .. " " .. f[2]] then
      names[f[1] .. " " .. f[2]] = { resource = f[3], method = f[4],
                                     positional = f[5] ~= "" and f[5] or nil, keyword = keyword,
                                     pagination = f[7] ~= "" and f[7] or nil }
    end
  end
  return names
end

----------------------------------------------------------------------------------------------
-- Operations and the whole model

-- The first server of the operation, else of its path item: { url, pointer } or nil.
local function server_of(op, item, iptr, verb)
  for _, c in ipairs({ { op, child(iptr, verb, "servers") }, { item, child(iptr, "servers") } }) do
    local list = tbl(c[1].servers)
    local first = list and tbl(list[1])
    if first and str(first.url) then return first.url, c[2] end
  end
  return nil
end

-- One operation's entry, or nil and its `unbound` entry when no HTTP client can call it.
local function operation(ctx, path, verb, op, item, iptr)
  local optr = child(iptr, verb)
  if type(op) ~= "table" then fail(ctx, optr, "expected an object, found %s", json_type(op)) end
  local op_id = str(op.operationId)
  local sdk = ctx.names[verb:upper() .. " " .. path]
  local server = server_of(op, item, iptr, verb)
  if server and server:match("^wss?://") then
    return nil, { resource = sdk and sdk.resource, method = sdk and sdk.method,
                  http_method = verb:upper(), path = path,
                  reason = "WebSocket only (" .. server .. "): not callable over HTTP" }
  end
  local info = responses_of(ctx, op, optr)
  local res, method
  local override = op_id and ctx.overrides[op_id]
  if override then
    res, method = override.resource, override.method
    if not (str(res) and res:match("^[%w_.]+$") and str(method) and method:match("^[%w_]+$")) then
      fail(ctx, optr, "override for %s needs a resource (a.b) and a method name", op_id)
    end
  elseif sdk then
    res, method = sdk.resource, sdk.method
  else
    res, method = name_operation(ctx, path, verb, info, optr)
  end
  local path_params = path_params_of(path)
  local positional
  if sdk then
    positional = sdk.positional and positional_of(path_params, sdk)
  else -- as the SDKs do: the last parameter is the positional one
    positional = path_params[#path_params]
  end
  local params = parameters_of(ctx, item.parameters, op.parameters, iptr, optr)
  local query, headers = query_of(ctx, params)
  local e = {
    resource = res,
    method = method,
    operation_id = op_id,
    http_method = verb:upper(),
    path = path,
    path_params = path_params,
    positional = positional,
    pagination = sdk and sdk.pagination,
    server = server ~= ctx.server and server or nil,
    accept = info.accept,
    response = info.response,
    success = info.success,
    wrapped = info.wrapped,
    deprecated = op.deprecated == true or nil,
    summary = line(op.summary),
    description = block(op.description),
    query = query,
    headers = headers,
    body = body_of(ctx, op, optr),
  }
  return e
end

-- The index's resources: every dotted resource and its parents (possibly without methods of
-- their own, so the client can walk client.a.b from the index alone), with the top-level
-- module holding their operations. A method named like a child resource could never be
-- reached: that is a collision.
local function resources_of(ops, collisions)
  local index = {}
  for _, op in ipairs(ops) do
    local name = ""
    for seg in op.resource:gmatch("[^.]+") do
      name = name == "" and seg or name .. "." .. seg
      index[name] = index[name] or { module = op.resource:match("^[^.]+"), methods = {} }
    end
    table.insert(index[op.resource].methods, op.method)
  end
  for name, r in pairs(index) do
    table.sort(r.methods)
    for _, m in ipairs(r.methods) do
      if index[name .. "." .. m] then
        collisions[#collisions + 1] = ("%s is both a method of %s and a resource"):format(m, name)
      end
    end
  end
  return index
end

-- The model written to the files. Returns it and the list of warnings; raises a SpecError
-- naming every collision. opts: file (the name recorded as the source), path (the spec as
-- named in messages; default file), names (read_names; default none), sha256 (of the spec
-- file), overrides (default OVERRIDES).
local function build(doc, opts)
  opts = opts or {}
  local ctx = openapi.context(doc, opts.path or opts.file or "spec")
  ctx.warnings, ctx.overrides, ctx.names = {}, opts.overrides or OVERRIDES, opts.names or {}
  -- cjson cannot tell {} from []: an empty table passes as an object
  if type(doc) ~= "table" or doc[1] ~= nil then
    fail(ctx, "#", "expected an OpenAPI object, found %s", json_type(doc))
  end
  local paths = doc.paths
  if type(paths) ~= "table" or paths[1] ~= nil then
    fail(ctx, "#/paths", "expected an object of paths, found %s", json_type(paths))
  end
  local server = tbl(doc.servers) and tbl(doc.servers[1])
  ctx.server = server and str(server.url)
  local ops, unbound, taken, collisions = {}, {}, {}, {}
  local function skip(path, verb, message)
    local sdk = ctx.names[verb:upper() .. " " .. path]
    unbound[#unbound + 1] = { resource = sdk and sdk.resource, method = sdk and sdk.method,
                              http_method = verb:upper(), path = path, reason = message }
  end
  for _, path in ipairs(sorted_keys(paths)) do
    local iptr = child("#", "paths", path)
    local ok, item = pcall(resolve, ctx, paths[path], iptr)
    if not ok then
      if getmetatable(item) == SpecError then
        warn(ctx, item.where, "%s; path skipped", item.message)
      else
        warn(ctx, iptr, "generator error: %s; path skipped", tostring(item))
      end
      item = {}
    end
    for _, verb in ipairs(VERBS) do
      if item[verb] ~= nil then
        local optr = child(iptr, verb)
        local good, e, gone = pcall(operation, ctx, path, verb, item[verb], item, iptr)
        if not good then
          local message = getmetatable(e) == SpecError and e.message or "generator error: " .. tostring(e)
          warn(ctx, getmetatable(e) == SpecError and e.where or optr, "%s; operation skipped", message)
          skip(path, verb, message)
        elseif gone then
          unbound[#unbound + 1] = gone
        else
          local key = e.resource .. ":" .. e.method
          if taken[key] then
            collisions[#collisions + 1] = ("%s (%s) would be %s.%s, already %s"):format(
              e.operation_id or "no operationId", verb:upper() .. " " .. path, e.resource,
              e.method, taken[key])
          else
            taken[key] = (e.operation_id or "?") .. " " .. e.http_method .. " " .. path
            ops[#ops + 1] = e
          end
        end
      end
    end
  end
  local resources = resources_of(ops, collisions)
  if #collisions > 0 then
    table.sort(collisions)
    fail(ctx, "#/paths", "name collision: %s", table.concat(collisions, "; "))
  end
  table.sort(ops, function(a, b)
    if a.resource ~= b.resource then return a.resource < b.resource end
    return a.method < b.method
  end)
  local info = tbl(doc.info) or {}
  local model = {
    source = {
      file = opts.file or "spec",
      sha256 = opts.sha256,
      title = scalar(info.title) and tostring(info.title),
      version = scalar(info.version) and tostring(info.version),
      server = ctx.server,
    },
    resources = resources,
    unbound = unbound,
    operations = ops,
  }
  return model, ctx.warnings
end

----------------------------------------------------------------------------------------------
-- Rendering: a Lua chunk with a fixed key order, so the same spec gives the same bytes

local KEY_ORDER = {
  "name", "module", "methods", "file", "sha256", "title", "version",
  "resource", "method", "operation_id", "http_method", "path", "path_params", "positional",
  "pagination", "server", "accept", "response", "success", "wrapped", "reason", "content_type",
  "optional", "type", "format", "required", "default", "minimum", "exclusive_minimum",
  "maximum", "exclusive_maximum", "min_length", "max_length", "min_items", "max_items", "pattern",
  "enum", "example",
  "deprecated", "additional", "summary", "description", "query", "headers", "body", "items",
  "fields", "source", "resources", "unbound", "operations",
}
local function chunk(model, what)
  return "-- Generated by " .. GENERATOR .. " from " .. model.source.file .. " and the official SDK's "
      .. "names" .. what .. ". Do not edit.\n"
      .. "-- Regenerate with `make resources`.\n"
      .. "return " .. literal.render(what == "" and { source = model.source, resources = model.resources,
                                                   unbound = model.unbound } or model.body, KEY_ORDER)
      .. "\n"
end

-- The files of the model, as { [path relative to the output directory] = text }: the index,
-- and per top-level resource its operations and (when any has one) its long descriptions.
local function render(model)
  local files = { ["resources.lua"] = chunk(model, "") }
  local by_top, docs = {}, {}
  for _, op in ipairs(model.operations) do
    local top = op.resource:match("^[^.]+")
    by_top[top] = by_top[top] or {}
    local e = copy(op)
    if e.description then
      docs[top] = docs[top] or {}
      docs[top][op.resource .. "." .. op.method] = e.description
      e.description = nil
    end
    table.insert(by_top[top], e)
  end
  for top, ops in pairs(by_top) do
    files["api/" .. top .. ".lua"] = chunk({ source = model.source, body = { operations = ops } },
                                           " (operations under " .. top .. ")")
  end
  for top, doc in pairs(docs) do
    files["doc/" .. top .. ".lua"] = chunk({ source = model.source, body = doc },
                                           " (descriptions of the operations under " .. top .. ")")
  end
  return files
end

----------------------------------------------------------------------------------------------
-- Command line

-- Reads the spec and the names, builds and renders. Returns files, warnings; or nil, message.
local function generate(spec_path, names_path)
  local doc, err = openapi.load(spec_path)
  if not doc then return nil, err end
  local names, nerr = read_names(names_path or DEFAULT_NAMES)
  if not names then return nil, nerr end
  local sha, serr = sha256_of(spec_path)
  if not sha then return nil, serr end
  local built, model, warnings = pcall(build, doc, { file = spec_path:match("([^/]+)$"),
                                                    path = spec_path, names = names, sha256 = sha })
  if not built then
    if getmetatable(model) == SpecError then return nil, tostring(model) end
    error(model, 0)
  end
  return render(model), warnings
end

-- --check: the index must have been made from this very spec (its sha256), and a fresh
-- generation into a temporary directory must match the committed files byte for byte.
local function check(args, files)
  local index = args.out .. "/resources.lua"
  local chunk_fn = loadfile(index, "t", {})
  local ok, current = pcall(chunk_fn or error)
  local made_from = ok and type(current) == "table" and type(current.source) == "table"
                    and current.source.sha256
  if not made_from then
    io.stderr:write(index, " is missing; run make resources\n")
    return 1
  end
  local sha = assert(sha256_of(args.spec))
  if made_from ~= sha then
    io.stderr:write(index, " is stale: made from a spec with sha256 ", tostring(made_from),
                    ", ", args.spec, " has ", sha, "; run make resources\n")
    return 1
  end
  local tmp = os.tmpname()
  os.remove(tmp)
  assert(os.execute("mkdir -p " .. shell_quote(tmp)))
  local written, err = genfiles.write_all(tmp, files)
  local diff = written and genfiles.differences(tmp, args.out)
  os.execute("rm -rf " .. shell_quote(tmp))
  if not written then
    io.stderr:write("gen-resources: ", err, "\n")
    return 2
  end
  if #diff > 0 then
    io.stderr:write(args.out, " is stale (", table.concat(diff, ", "), "); run make resources\n")
    return 1
  end
  return 0
end

local function main(argv)
  local argparse = require "argparse"
  local parser = argparse("gen-resources.lua",
      "Generate the client's API table from the Telnyx OpenAPI spec and the official SDK's names.")
    :epilog("Run from the repository root. Exit status: 0 written or up to date, "
            .. "1 stale (--check), 2 bad usage, unreadable input or a name collision.")
  parser:option("--spec", "OpenAPI 3.x JSON file to read.", DEFAULT_SPEC)
  parser:option("--names", "The official SDK's methods (TSV) naming the operations.", DEFAULT_NAMES)
  parser:option("--out", "Directory to write resources.lua, api/ and doc/ into "
                .. "(or compare with --check).", DEFAULT_OUT)
  parser:flag("--check", "Exit 1 unless the files in --out were made from this spec and match "
              .. "a fresh generation.")
  local ok, args = parser:pparse(argv)
  if not ok then
    io.stderr:write(parser:get_usage(), "\n\nerror: ", args, "\n")
    return 2
  end
  local files, warnings = generate(args.spec, args.names)
  if not files then
    io.stderr:write("gen-resources: ", warnings, "\n")
    return 2
  end
  for _, w in ipairs(warnings) do io.stderr:write("gen-resources: warning: ", w, "\n") end
  if args.check then return check(args, files) end
  local written, err = genfiles.write_all(args.out, files)
  if not written then
    io.stderr:write("gen-resources: ", err, "\n")
    return 2
  end
  return 0
end

local M = { build = build, render = render, generate = generate, main = main,
            read_names = read_names, OVERRIDES = OVERRIDES }

if arg and type(arg[0]) == "string" and arg[0]:match("gen%-resources%.lua$") then
  os.exit(main({ table.unpack(arg, 1, #arg) }))
end
return M
