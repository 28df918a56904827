#!/usr/bin/env lua5.4
-- Turns the Telnyx OpenAPI file into lua/telnyx/resources.lua: one plain table from which the
-- C client serves every endpoint through a single generic code path, and which the REPL's
-- help() shows. Resources are data, not code: adding an endpoint is regenerating this table.
--
--   lua5.4 scripts/build/gen-resources.lua [--spec FILE] [--out FILE] [--check]     (from the repo root)
--
-- Exit status: 0 written or up to date; 1 --check found the file stale; 2 bad usage, or a spec
-- that cannot be read at all. An operation whose shape the rules below do not cover is skipped
-- with a warning on stderr naming the file and JSON pointer, so the full public spec (hundreds
-- of paths) goes through too.
--
-- Loaded with loadfile() from anywhere but the command line (the specs do), the chunk returns
-- its functions instead of running.

-- The shared OpenAPI loader and resolver, found beside this file wherever it is run from.
local HERE = debug.getinfo(1, "S").source:match("^@(.+)/[^/]*$") or "."
local openapi = dofile(HERE .. "/openapi.lua")

local DEFAULT_SPEC = "scripts/build/telnyx-account-access.openapi.json"
local DEFAULT_OUT = "lua/telnyx/resources.lua"

-- Recursive schemas (a filter made of filters) would flatten forever; deeper than this is
-- noise for a query string or a type name anyway.
local MAX_DEPTH = 8

-- operationId -> { resource = "a.b", method = "m" } for endpoints the naming rules get wrong
-- (the official Python SDK's names are hand-configured, the rules only approximate them).
-- The account-access subset needs none; the full spec does (e.g. POST on an item path).
local OVERRIDES = {}

-- Stable order in which a path item's operations are visited: the first operation to claim a
-- resource.method keeps it, so this order must not depend on hash order.
local VERBS = { "delete", "get", "head", "options", "patch", "post", "put", "trace" }

-- Naming rules (see name_operation). Verbs missing here have no rule: override or skip.
local COLLECTION = { post = "create", put = "update", patch = "update", delete = "delete" }
local ITEM = { get = "retrieve", put = "update", patch = "update", delete = "delete" }
local SUBPATH = { post = "create", put = "update", patch = "update", delete = "delete" }

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
    -- split on top-level "|" only: "array<string|integer>" is one part
    local depth, start = 0, 1
    for i = 1, #t + 1 do
      local c = t:sub(i, i)
      if c == "<" then depth = depth + 1 elseif c == ">" then depth = depth - 1 end
      if (c == "|" and depth == 0) or i == #t + 1 then
        local part = t:sub(start, i - 1)
        if part == "null" then
          nullable = true
        elseif part ~= "" and not seen[part] then
          seen[part] = true
          parts[#parts + 1] = part
        end
        start = i + 1
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

-- "string", "integer|null", "array<string>", "object", "string|object"; "any" when unknown.
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
    if t == "array" then
      local items = tbl(s.items)
      types[#types + 1] = "array<" ..
        (items and type_name(ctx, items, child(sptr, "items"), depth + 1) or "any") .. ">"
    elseif type(t) == "string" then
      types[#types + 1] = t
    end
  end
  if #types == 0 then
    if properties(s) or tbl(s.additionalProperties) then
      types[1] = "object"
    else -- untyped enum/const: name the type of its values
      local v = scalar(s.const)
      if v == nil and tbl(s.enum) then v = scalar(s.enum[1]) end
      if v ~= nil then types[1] = type(v) end
    end
  end
  if s.nullable == true then types[#types + 1] = "null" end -- OpenAPI 3.0 spelling
  return union(types)
end

-- The attributes help() shows and the client may check: type, format, enum, default,
-- minimum/maximum, example (scalars only), description, deprecated. A keyword missing on the
-- schema is taken from its first oneOf/anyOf alternative that has it.
local function describe(ctx, schema, ptr)
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
  e.example = pick("example", scalar)
  e.description = line(pick("description", str))
  if s.deprecated == true then e.deprecated = true end
  return e, s
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

local function query_of(ctx, params)
  local out = {}
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
    elseif (where == "header" or where == "cookie") and p.required == true then
      warn(ctx, pptr, "required %s parameter %q is not modelled; callers must pass it in opts.headers",
           where, name)
    elseif where ~= "path" and where ~= "header" and where ~= "cookie" then
      warn(ctx, pptr, "parameter %q has unknown location %s; ignored", name, show(where))
    end
  end
  local list = {}
  for _, key in ipairs(sorted_keys(out)) do list[#list + 1] = out[key] end
  return list
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

local function body_of(ctx, op, optr)
  if op.requestBody == nil then return nil end
  local rb, rbptr = resolve(ctx, op.requestBody, child(optr, "requestBody"))
  local content = tbl(rb.content) or {}
  local ctype = pick_content_type(content)
  local body = { content_type = ctype or "application/json", optional = rb.required ~= true,
                 required = {}, fields = {} }
  local media = ctype and tbl(content[ctype])
  if not media or not tbl(media.schema) then
    body.type = "any"
    return body
  end
  local sptr = child(rbptr, "content", ctype, "schema")
  local s
  s, sptr = resolve(ctx, media.schema, sptr)
  body.type = type_name(ctx, s, sptr)

  -- Fields of the schema itself, plus the union of its object alternatives; a field counts as
  -- required only when every alternative requires it (the client refuses a call that lacks a
  -- required field, so a false "required" would block valid requests).
  local fields, required = {}, {}
  local function add_fields(v, vptr)
    for _, key in ipairs(sorted_keys(properties(v) or {})) do
      if fields[key] == nil then
        local e, fs = describe(ctx, v.properties[key], child(vptr, "properties", key))
        if fs.readOnly == true then
          fields[key] = false -- the server sets it; never sent
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
  for _, key in ipairs(sorted_keys(required)) do
    if fields[key] ~= false then body.required[#body.required + 1] = key end
  end
  for _, key in ipairs(sorted_keys(fields)) do
    local e = fields[key]
    if e then
      e.required = required[key] == true
      body.fields[#body.fields + 1] = e
    end
  end
  return body
end

-- Success statuses, and what the first success response that has a body looks like.
local function responses_of(ctx, op, optr)
  local responses = tbl(op.responses)
  if not responses then fail(ctx, optr, "operation has no responses") end
  -- With no success body, accept "*/*", as the official SDKs do for a None-returning method.
  local info = { success = {}, accept = "*/*", wrapped = false, data_array = false,
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
      info.accept = ctype
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

-- The path's single {param}, if any.
local function path_param_of(ctx, path, optr)
  local params = {}
  for p in path:gmatch("{([^{}]*)}") do params[#params + 1] = p end
  if #params > 1 then
    fail(ctx, optr, "path has %d parameters; the client supports one", #params)
  end
  return params[1]
end

-- Resource and method for one operation, by the rules:
--   /x            GET list (retrieve when the body is not a list), POST create, PUT/PATCH update, DELETE delete
--   /x/{id}       GET retrieve, PUT/PATCH update, DELETE delete
--   .../actions/v (with or without an {id}) resource ".../actions", method v
--   /x/{id}/y     resource x, method <verb>_y: create_, update_, delete_, and list_ or retrieve_
-- Resource names are the literal segments joined by "."; at most one {param} per path.
local function name_operation(ctx, path, verb, info, optr)
  local path_param = path_param_of(ctx, path, optr)
  local literals = {}
  for seg in path:gmatch("[^/]+") do
    if seg:match("^{[^{}]+}$") then
      -- the parameter: names no resource
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
  elseif not path_param then
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
  return res, method, path_param
end

----------------------------------------------------------------------------------------------
-- Operations and the whole model

local function operation(ctx, path, verb, op, item, iptr)
  local optr = child(iptr, verb)
  if type(op) ~= "table" then fail(ctx, optr, "expected an object, found %s", json_type(op)) end
  local info = responses_of(ctx, op, optr)
  local op_id = str(op.operationId)
  local res, method, path_param
  local override = op_id and ctx.overrides[op_id]
  if override then
    res, method, path_param = override.resource, override.method, path_param_of(ctx, path, optr)
    if not (str(res) and res:match("^[%w_.]+$") and str(method) and method:match("^[%w_]+$")) then
      fail(ctx, optr, "override for %s needs a resource (a.b) and a method name", op_id)
    end
  else
    res, method, path_param = name_operation(ctx, path, verb, info, optr)
  end
  local params = parameters_of(ctx, item.parameters, op.parameters, iptr, optr)
  local e = {
    resource = res,
    method = method,
    operation_id = op_id,
    http_method = verb:upper(),
    path = path,
    path_param = path_param,
    paginated = verb == "get" and info.data_array and info.meta,
    accept = info.accept,
    success = info.success,
    wrapped = info.wrapped,
    deprecated = op.deprecated == true or nil,
    summary = line(op.summary),
    description = block(op.description),
    query = query_of(ctx, params),
    body = body_of(ctx, op, optr),
  }
  return e
end

local function resources_of(ctx, ops)
  local methods = {}
  for _, op in ipairs(ops) do
    -- parents exist too (possibly without methods), so the client can build the tree from
    -- this list alone
    local name = ""
    for seg in op.resource:gmatch("[^.]+") do
      name = name == "" and seg or name .. "." .. seg
      methods[name] = methods[name] or {}
    end
    table.insert(methods[op.resource], op.method)
  end
  -- "." sorts before every identifier character, so each parent comes right before its children
  local names = sorted_keys(methods)
  local list = {}
  for _, name in ipairs(names) do
    table.sort(methods[name])
    list[#list + 1] = { name = name, methods = methods[name] }
    local parent, leaf = name:match("^(.*)%.([^.]+)$")
    for _, m in ipairs(parent and methods[parent] or {}) do
      if m == leaf then
        warn(ctx, "#/paths", "%s is both a method of %s and a resource; rename one with an override",
             leaf, parent)
      end
    end
  end
  return list
end

-- The model written to resources.lua. Returns it and the list of warnings. opts: file (the
-- name recorded as the source), path (the spec as named in messages; default file),
-- overrides (default OVERRIDES).
local function build(doc, opts)
  opts = opts or {}
  local ctx = openapi.context(doc, opts.path or opts.file or "spec")
  ctx.warnings, ctx.overrides = {}, opts.overrides or OVERRIDES
  -- cjson cannot tell {} from []: an empty table passes as an object
  if type(doc) ~= "table" or doc[1] ~= nil then
    fail(ctx, "#", "expected an OpenAPI object, found %s", json_type(doc))
  end
  local paths = doc.paths
  if type(paths) ~= "table" or paths[1] ~= nil then
    fail(ctx, "#/paths", "expected an object of paths, found %s", json_type(paths))
  end
  local ops, taken = {}, {}
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
        local good, e = pcall(operation, ctx, path, verb, item[verb], item, iptr)
        if not good then
          if getmetatable(e) == SpecError then
            warn(ctx, e.where, "%s; operation skipped", e.message)
          else -- a bug here, not in the spec; still never a crash, but say so
            warn(ctx, optr, "generator error: %s; operation skipped", tostring(e))
          end
        else
          local key = e.resource .. ":" .. e.method
          if taken[key] then
            warn(ctx, optr, "%s (%s) would be %s.%s, already %s; skipped (add an override)",
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
  table.sort(ops, function(a, b)
    if a.resource ~= b.resource then return a.resource < b.resource end
    return a.method < b.method
  end)
  local info = tbl(doc.info) or {}
  local server = tbl(doc.servers) and tbl(doc.servers[1])
  local model = {
    source = {
      file = opts.file or "spec",
      title = scalar(info.title) and tostring(info.title),
      version = scalar(info.version) and tostring(info.version),
      server = server and str(server.url),
    },
    resources = resources_of(ctx, ops),
    operations = ops,
  }
  return model, ctx.warnings
end

----------------------------------------------------------------------------------------------
-- Rendering: a Lua chunk with a fixed key order, so the same spec gives the same bytes

local KEY_ORDER = {
  "name", "methods", "file", "title", "version", "server",
  "resource", "method", "operation_id", "http_method", "path", "path_param", "paginated",
  "accept", "success", "wrapped", "content_type", "optional", "type", "format", "required",
  "default", "minimum", "maximum", "enum", "example", "deprecated", "summary", "description",
  "query", "body", "fields", "source", "resources", "operations",
}
local RANK = {}
for i, k in ipairs(KEY_ORDER) do RANK[k] = i end

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
            repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

-- %q, but a newline as \n rather than a backslash-newline, so every string stays on one line.
local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

-- cjson decodes every number as a float: integral ones are written as integers, the rest in
-- the shortest form that reads back equal.
local function number_literal(n)
  local i = math.tointeger(n)
  if i then return string.format("%d", i) end
  if n ~= n then return "(0/0)" end
  if n == math.huge then return "1e999" elseif n == -math.huge then return "-1e999" end
  for precision = 15, 17 do
    local s = string.format("%." .. precision .. "g", n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end

local function ordered_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ra, rb = RANK[a] or math.huge, RANK[b] or math.huge
    if ra ~= rb then return ra < rb end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_list(t) return t[1] ~= nil or next(t) == nil end

-- A table of scalars and lists of scalars goes on one line, so each field, parameter and
-- resource is one line and diffs of the generated file stay readable. Lists of tables and
-- the operations themselves (`block`) get one line per item.
local function is_inline(t, block)
  if block then return false end
  for _, v in pairs(t) do
    if type(v) == "table" then
      if is_list(t) then return false end
      for _, x in pairs(v) do
        if type(x) == "table" then return false end
      end
    end
  end
  return true
end

local render_value

local function render_key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. (type(k) == "string" and quote(k) or tostring(k)) .. "]"
end

local function render_table(t, indent, block)
  if next(t) == nil then return "{}" end
  local items = {}
  if is_list(t) then
    for _, v in ipairs(t) do items[#items + 1] = render_value(v, indent .. "  ", block) end
  else
    for _, k in ipairs(ordered_keys(t)) do
      items[#items + 1] = render_key(k) .. " = "
                          .. render_value(t[k], indent .. "  ", k == "operations")
    end
  end
  if is_inline(t, block and not is_list(t)) then return "{ " .. table.concat(items, ", ") .. " }" end
  local inner = indent .. "  "
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. ",\n" .. indent .. "}"
end

function render_value(v, indent, block)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return number_literal(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then return render_table(v, indent, block) end
  error("cannot render a " .. t)
end

local function render(model)
  return "-- Generated by scripts/build/gen-resources.lua from " .. model.source.file .. ". Do not edit.\n"
      .. "-- Regenerate with `make resources` (lua5.4 scripts/build/gen-resources.lua).\n"
      .. "return " .. render_value(model, "", false) .. "\n"
end

----------------------------------------------------------------------------------------------
-- Command line

-- Reads and decodes the spec, builds and renders. Returns text, warnings; or nil, message.
local function generate(spec_path)
  local doc, err = openapi.load(spec_path)
  if not doc then return nil, err end
  local built, model, warnings = pcall(build, doc, { file = spec_path:match("([^/]+)$"),
                                                    path = spec_path })
  if not built then
    if getmetatable(model) == SpecError then return nil, tostring(model) end
    error(model, 0)
  end
  return render(model), warnings
end

local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then os.remove(tmp); return nil, rerr end
  return true
end

local function main(argv)
  local argparse = require "argparse"
  local parser = argparse("gen-resources.lua",
      "Generate the client's resource table from the Telnyx OpenAPI spec.")
    :epilog("Run from the repository root. Exit status: 0 written or up to date, "
            .. "1 stale (--check), 2 bad usage or unreadable spec.")
  parser:option("--spec", "OpenAPI 3.x JSON file to read.", DEFAULT_SPEC)
  parser:option("--out", "Lua file to write (or compare with --check).", DEFAULT_OUT)
  parser:flag("--check", "Regenerate in memory; exit 1 if --out differs.")
  local ok, args = parser:pparse(argv)
  if not ok then
    io.stderr:write(parser:get_usage(), "\n\nerror: ", args, "\n")
    return 2
  end
  local text, warnings = generate(args.spec)
  if not text then
    io.stderr:write("gen-resources: ", warnings, "\n")
    return 2
  end
  for _, w in ipairs(warnings) do io.stderr:write("gen-resources: warning: ", w, "\n") end
  local current = openapi.read_file(args.out)
  if args.check then
    if current ~= text then
      io.stderr:write(args.out, current and " is stale" or " is missing", "; run make resources\n")
      return 1
    end
    return 0
  end
  if current ~= text then -- leave an unchanged file alone, so make sees no new mtime
    local written, err = write_file(args.out, text)
    if not written then
      io.stderr:write("gen-resources: cannot write ", args.out, ": ", err, "\n")
      return 2
    end
  end
  return 0
end

local M = { build = build, render = render, generate = generate, main = main,
            OVERRIDES = OVERRIDES }

if arg and type(arg[0]) == "string" and arg[0]:match("gen%-resources%.lua$") then
  os.exit(main({ table.unpack(arg, 1, #arg) }))
end
return M
