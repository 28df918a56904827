-- Every bound operation of the whole spec, called through the client under its official name
-- (client.<resource>:<method>(...)) with the minimal valid arguments its own entry calls for
-- (spec/support/minimal_args.lua), against one mock: the request the mock logged has the
-- entry's HTTP method, path (parameters substituted), content type, query and body as sent,
-- and the mock accepted it (a declared 2xx). Operations that cannot be called so are listed in
-- CANNOT with the reason; none is skipped silently.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"
local api = require "spec.support.api"
local args = require "spec.support.minimal_args"
local operations = require "telnyx.operations"
local pagination = require "telnyx.pagination"

local json = telnyx.json
-- the mock's request log is decoded by spec/support/mock.lua with lua-cjson: its nulls are cjson.null
local LOG_NULL = require("cjson").null

-- "resource:method" -> why it is not called here. Keep it short.
local CANNOT = {}

-- The account-access resources keep stateful handlers with rules of their own: an item is made
-- before an operation on it, and creates send valid, unique values.
local serial = 0
local function subset_body(op, a)
  serial = serial + 1
  if op.resource == "access_ip_address" then return { ip_address = "192.0.2." .. serial } end
  if op.resource == "access_ip_ranges" then return { cidr_block = "198.51." .. serial .. ".0/24" } end
  if op.resource == "integration_secrets" then return { identifier = "s" .. serial, type = "bearer", token = "t" } end
  return a.body
end

-- A value as one line with sorted keys, for comparing what was sent with what the mock logged
-- (an empty array and an empty object read alike: a decoded `{}` and `[]` are both empty tables).
local function canon(v)
  if type(v) ~= "table" then
    if v == json.null or v == LOG_NULL then return "null" end
    return type(v) == "string" and string.format("%q", v) or tostring(v)
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = tostring(k) .. "=" .. canon(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

describe("the whole API through the client against the mock", function()
  local m, c

  setup(function()
    m = mock.start { seed = 19 }
    c = H.client(m, { max_retries = 0 })
  end)
  teardown(function()
    if m then m:stop() end
    api.unload()
  end)

  local function resource_of(name)
    local r = c
    for part in name:gmatch("[^.]+") do r = r[part] end
    return r
  end

  -- Calls op with arguments a (tagged by header so its logged request is found); returns the
  -- error message, or nil.
  local function call(op, a, tag, params)
    local r = resource_of(op.resource)
    local argv, n = {}, 0
    if op.positional then n = n + 1; argv[n] = a.positional end
    local takes = op.body or op.pagination or #op.query > 0 or (op.headers and #op.headers > 0)
      or #op.path_params > (op.positional and 1 or 0)
    if takes then n = n + 1; argv[n] = params end
    n = n + 1
    argv[n] = { headers = { ["x-spec-op"] = tag } }
    local ok, res = pcall(function() return r[op.method](r, table.unpack(argv, 1, n)) end)
    if ok and op.pagination then
      ok, res = pcall(function() for _ in res:pages() do break end end)
    end
    if not ok then return tostring(res) end
    return nil
  end

  it("calls every bound operation with its minimal valid arguments, as its entry says", function()
    local subset = api.subset_keys()
    local all = operations.all()
    local creates = {} -- "/collection" -> its create operation
    for _, op in ipairs(all) do
      if op.http_method == "POST" then creates[op.path] = op end
    end
    local expected, failures, count, exempt = {}, {}, 0, 0
    for i, op in ipairs(all) do
      local name = op.resource .. ":" .. op.method
      if CANNOT[name] then
        exempt = exempt + 1
      else
        count = count + 1
        local a = args.call(op, i)
        local key = op.http_method .. " " .. op.path
        local tag = tostring(i)
        if subset[key] then
          if op.http_method == "POST" and not op.path:find("{", 1, true) then
            a.body = subset_body(op, a)
            a.params = a.body
          elseif op.positional then
            local create = assert(creates[op.path:match("^/[^/]+")])
            local made = resource_of(create.resource)[create.method](resource_of(create.resource),
              subset_body(create, args.call(create)))
            a.positional = (made.data or made).id
            a.path = op.path:gsub("{[^}]+}", a.positional)
          end
        end
        local err = call(op, a, tag, a.params)
        if err then
          failures[#failures + 1] = name .. ": raised " .. err
        else
          expected[tag] = { op = op, a = a }
        end
      end
    end

    local logged = {}
    for _, e in ipairs(m:requests()) do
      local tag = e.headers["x-spec-op"]
      if tag then
        if logged[tag] then failures[#failures + 1] = "two requests for one call: " .. e.method .. " " .. e.path end
        logged[tag] = e
      end
    end

    local tags = {}
    for tag in pairs(expected) do tags[#tags + 1] = tag end
    table.sort(tags, function(x, y) return tonumber(x) < tonumber(y) end)
    for _, tag in ipairs(tags) do
      local op, a = expected[tag].op, expected[tag].a
      local name = op.resource .. ":" .. op.method
      local e = logged[tag]
      local function bad(what, want, got)
        failures[#failures + 1] = ("%s: %s: want %s, got %s"):format(name, what, tostring(want), tostring(got))
      end
      if not e then
        bad("request", "one logged", "none")
      else
        local prefix = op.server and op.server:match("^https?://[^/]+(.*)$") or "/v2"
        if e.method ~= op.http_method then bad("method", op.http_method, e.method) end
        if e.path ~= prefix .. a.path then bad("path", prefix .. a.path, e.path) end
        local ok_status = false
        for _, s in ipairs(op.success) do ok_status = ok_status or s == e.status end
        if not ok_status then bad("status", "one of the declared 2xx", e.status) end
        -- query: the required parameters, plus the page a list asks for first
        local want_q = {}
        for k, v in pairs(a.query) do args.flatten(k, v, want_q) end
        local kind = op.pagination and pagination[op.pagination]
        if kind and kind.number then want_q[kind.param] = want_q[kind.param] or "1" end
        if canon(want_q) ~= canon(e.query_params or {}) then
          bad("query", canon(want_q), canon(e.query_params))
        end
        for h, v in pairs(a.headers) do
          if e.headers[h] ~= v then bad("header " .. h, v, e.headers[h]) end
        end
        -- body, in its content type
        local ct = e.content_type ~= LOG_NULL and e.content_type or nil
        local body_ct = op.body and op.body.content_type
        -- an optional body is sent when params are given (empty when they hold no field)
        local sent_body = op.body and (not op.body.optional or a.params ~= nil)
        if not sent_body then
          if ct then bad("content type", "none", ct) end
        elseif body_ct == "multipart/form-data" then
          if not (ct or ""):match("^multipart/form%-data; boundary=") then bad("content type", body_ct, ct) end
          local want_form, want_parts = {}, {}
          for k, v in pairs(a.body) do
            if type(v) == "userdata" then want_parts[k] = "mock.bin" else args.flatten(k, v, want_form) end
          end
          for _, p in ipairs(e.parts or {}) do
            if p.filename ~= LOG_NULL then
              if want_parts[p.name] ~= p.filename then bad("file part " .. p.name, want_parts[p.name], p.filename) end
              want_parts[p.name] = nil
            end
          end
          if next(want_parts) then bad("file part", next(want_parts), "missing") end
          if canon(want_form) ~= canon(e.form or {}) then bad("form fields", canon(want_form), canon(e.form)) end
        elseif a.raw then
          if ct ~= body_ct then bad("content type", body_ct, ct) end
          if e.body ~= a.raw then bad("raw body", ("%q"):format(a.raw), ("%q"):format(e.body)) end
        elseif body_ct == "application/x-www-form-urlencoded" then
          if ct ~= body_ct then bad("content type", body_ct, ct) end
          local want_form = {}
          for k, v in pairs(a.body) do args.flatten(k, v, want_form) end
          if canon(want_form) ~= canon(e.form or {}) then bad("form fields", canon(want_form), canon(e.form)) end
        else
          if ct ~= body_ct then bad("content type", body_ct, ct) end
          local ok, got = pcall(json.decode, e.body or "")
          if not ok or canon(got) ~= canon(a.body) then
            bad("body", canon(a.body), e.body)
          end
        end
      end
    end
    assert.are.same({}, failures)
    local unbound = #require("telnyx.resources").unbound
    assert.are.equal(1156, count + exempt + unbound)
  end)
end)
