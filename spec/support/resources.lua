--[[
spec/support/resources.lua: table-driven helpers for spec/resources/*_spec.lua (and the pager
and query specs). A resource spec describes its resource as data:

  local R = require "spec.support.resources"
  R.describe_resource {
    name = "billing_groups",        -- client field, API path and mock resource
    methods = { "list", "create", "retrieve", "update", "delete" },  -- as in LUA-API.md
    wrapped = true,                 -- answers are {data = ...} (false: the bare object)
    id_param = "id",                -- the path parameter, named in id errors
    required = {},                  -- create's required body fields
    body = function(i) return { name = "Team " .. i } end,   -- a valid create body, distinct per i
    update = { name = "Renamed" },  -- a valid update body (when there is an update)
    not_echoed = {},                -- body fields the answer does not repeat
    filters = { R.filter.eq("filter[x]", "x"), ... },          -- every filter of the list
    sorts = { "name", "-name" },    -- every sort value of the list
    default_sort = "-created_at",   -- the list's default order when it is not creation order
    actions = { { resource = "x.actions", method = "m", http = "POST", suffix = "/actions/m" } },
    more = function(env, def) it(...) end,   -- what is peculiar to it (env.m, env.client)
  }

Every check looks at both sides: what the client returned and what the mock received
(method, path, query, body), taken from the mock's request log.
]]
local busted = require "busted"
local assert = require "luassert"
local telnyx = require "telnyx"
local mock = require "spec.support.mock"

local json = mock.json -- lua-cjson: the mock's answers and its log of request bodies

local R = {}

R.API_KEY = "test-api-key"
R.MOCK_SEED = 4242
R.SEEDED = 600 -- records bulk-created by the mock for the list walks
R.SAMPLES = 6 -- records created through the client, with distinct values
R.PAGE_SIZES = { 1, 7, 250 }

-- Ids that must stay one path segment, and the exact segment the mock must see.
R.ODD_IDS = {
  { id = "../x", segment = "..%2Fx" },
  { id = "a/b", segment = "a%2Fb" },
  { id = "a?b#c", segment = "a%3Fb%23c" },
  { id = "%2F", segment = "%252F" },
  { id = "\u{e9}t\u{e9} \u{1F4DE}", segment = "%C3%A9t%C3%A9%20%F0%9F%93%9E" },
  { id = "...", segment = "..." }, -- "." and ".." are refused: spec/request_guard_spec.lua
}

-- Ids that are not non-empty strings, with the word the error uses for them.
R.BAD_IDS = {
  { value = nil, what = "nil" },
  { value = 42, what = "number" },
  { value = "", what = "empty string" },
  { value = {}, what = "table" },
}

local DEFAULT_HTTP = { retrieve = "GET", update = "PATCH", delete = "DELETE" }

---------------------------------------------------------------------------
-- Small tools
---------------------------------------------------------------------------

-- client.addresses.actions from "addresses.actions".
function R.resource(client, name)
  local r = client
  for part in name:gmatch("[^.]+") do r = r[part] end
  assert(r ~= nil, "no resource " .. name)
  return r
end

-- No retries: every request a test makes shows up exactly once in the mock's log.
function R.new_client(m)
  return telnyx.new { api_key = R.API_KEY, base_url = m.url, max_retries = 0, timeout = 30 }
end

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end
R.sorted_keys = sorted_keys

local function copy(t, extra)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end
R.copy = copy

-- A JSON scalar as the query string carries it.
local function text(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  return tostring(v)
end

-- item.a.b for "a.b"; nil for JSON null.
local function get(item, path)
  local v = item
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = v[part]
  end
  if v == telnyx.null then return nil end
  return v
end

-- Keys whose values are secrets (as the client's logging redacts them).
local function secret_key(k)
  return type(k) == "string" and (k == "password" or k == "sip_password" or k == "token"
    or k == "api_key" or k:find("secret", 1, true) ~= nil)
end

-- A one-line dump with secrets replaced, for failure messages only.
local function dump(v)
  if type(v) ~= "table" then return type(v) == "string" and string.format("%q", v) or tostring(v) end
  local parts = {}
  for _, k in ipairs(sorted_keys(setmetatable(copy(v), nil))) do
    parts[#parts + 1] = tostring(k) .. "=" .. (secret_key(k) and "[redacted]" or dump(v[k]))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function equal(a, b)
  if a == telnyx.null or a == json.null then a = nil end
  if b == telnyx.null or b == json.null then b = nil end
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not equal(v, b[k]) then return false end end
  for k, v in pairs(b) do if not equal(a[k], v) then return false end end
  return true
end

-- Every field of `want` is in `have` with the same value (objects compared the same way;
-- arrays must be equal).
local function has(want, have)
  if type(want) ~= "table" or #want > 0 then return equal(want, have) end
  if type(have) ~= "table" then return false end
  for k, v in pairs(want) do if not has(v, have[k]) then return false end end
  return true
end

function R.assert_equal_json(want, have, what)
  assert.is_true(equal(want, have), (what or "value") .. " differs:\n  want " .. dump(want)
    .. "\n  have " .. dump(have))
end

function R.assert_has(want, have, what)
  assert.is_true(has(want, have), (what or "object") .. " lacks fields:\n  want " .. dump(want)
    .. "\n  have " .. dump(have))
end

-- "POST /v2/x?q" for messages (never headers: they carry the API key).
local function show_request(req)
  return req.method .. " " .. req.path .. (req.query ~= "" and ("?" .. req.query) or "")
end

local function show_requests(reqs)
  local out = {}
  for i, req in ipairs(reqs) do out[i] = show_request(req) end
  return table.concat(out, "\n  ")
end

-- The decoded JSON body of a logged request (nil when it had none).
function R.body_of(req)
  if req.body == nil or req.body == "" or req.body == json.null then return nil end
  return json.decode(req.body)
end

---------------------------------------------------------------------------
-- Talking to the mock
---------------------------------------------------------------------------

-- Runs fn with a cleared request log. Returns the requests the mock received while it ran,
-- then pcall's results (ok, values...).
function R.sent(m, fn, ...)
  m:clear_requests()
  local r = table.pack(pcall(fn, ...))
  return m:requests(), table.unpack(r, 1, r.n)
end

-- Runs fn, which must succeed with exactly one request; returns that request and fn's result.
function R.one(m, fn, ...)
  local reqs, ok, res = R.sent(m, fn, ...)
  assert.is_true(ok, "the call failed: " .. tostring(res))
  assert.are.equal(1, #reqs, "expected one request, the mock saw:\n  " .. show_requests(reqs))
  return reqs[1], res
end

-- Runs fn, which must raise without sending anything; returns the error.
function R.refused(m, fn, ...)
  local reqs, ok, err = R.sent(m, fn, ...)
  assert.is_false(ok, "the call did not raise")
  assert.are.equal(0, #reqs, "the mock saw requests:\n  " .. show_requests(reqs))
  return err
end

function R.assert_request(req, method, path, query)
  assert.are.equal(method, req.method, show_request(req))
  assert.are.equal(path, req.path, show_request(req))
  assert.are.equal(query or "", req.query, show_request(req))
  assert.is_true(req.headers.authorization == "Bearer " .. R.API_KEY,
    "the request does not carry the client's API key")
end

-- The object of an answer: its data for wrapped endpoints, else the answer itself.
function R.unwrap(def, res)
  assert.are.equal("table", type(res), "answer " .. dump(res))
  if def.wrapped then
    assert.are.equal("table", type(res.data), "no data wrapper in " .. dump(res))
    return res.data
  end
  assert.is_nil(rawget(res, "data"), "a bare object was expected, got a data wrapper")
  return res
end

-- A mock started in lazy_setup and stopped in lazy_teardown; env.m and env.client are set
-- for the tests of the enclosing describe.
function R.env()
  local env = {}
  busted.lazy_setup(function()
    env.m = mock.start { seed = R.MOCK_SEED }
    env.client = R.new_client(env.m)
  end)
  busted.lazy_teardown(function()
    if env.client then env.client:close() end
    if env.m then env.m:stop() end
  end)
  return env
end

function R.ids(items)
  local out = {}
  for i, item in ipairs(items) do out[i] = item.id end
  return out
end

local function all_distinct(list)
  local seen = {}
  for _, v in ipairs(list) do
    if seen[v] then return false end
    seen[v] = true
  end
  return true
end

-- Base64url without padding, as JWTs use it.
function R.b64url_decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local bits, nbits, out = 0, 0, {}
  for i = 1, #s do
    local k = alphabet:find(s:sub(i, i), 1, true)
    if not k then return nil end
    bits, nbits = (bits << 6) | (k - 1), nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 0xff)
    end
  end
  return table.concat(out)
end

---------------------------------------------------------------------------
-- Filters: each case names a query parameter of the list, how to pick a value from the
-- sample records, and which records match it. The expected result is computed from the
-- unfiltered list, so nothing about the data is written down twice.
---------------------------------------------------------------------------
local PICK = 3 -- the sample whose values the filters use

local function field_text(samples, field)
  local v = get(samples[PICK], field)
  assert(v ~= nil, "sample " .. PICK .. " has no " .. field)
  return text(v)
end

local function case(param, pick, match, expect)
  return { param = param, pick = pick, match = match, expect = expect or "some" }
end

R.filter = {}

-- param=value of `field` in a sample; records whose field has that value match. `expect`:
-- "some" (default: some records but not all), "all" or "none".
function R.filter.eq(param, field, expect)
  return case(param, function(samples) return field_text(samples, field) end,
    function(item, v) local x = get(item, field) return x ~= nil and text(x) == v end, expect)
end

-- param=part of a sample's `field`; records whose field contains it (any case) match.
function R.filter.contains(param, field)
  return case(param, function(samples) return field_text(samples, field):sub(2, -2) end,
    function(item, v)
      local x = get(item, field)
      return x ~= nil and text(x):lower():find(v:lower(), 1, true) ~= nil
    end)
end

function R.filter.startswith(param, field)
  return case(param, function(samples) return field_text(samples, field):sub(1, -2) end,
    function(item, v) local x = get(item, field) return x ~= nil and text(x):sub(1, #v) == v end)
end

function R.filter.endswith(param, field)
  return case(param, function(samples) return field_text(samples, field):sub(2) end,
    function(item, v) local x = get(item, field) return x ~= nil and text(x):sub(-#v) == v end)
end

-- created_at filters: ISO 8601 stamps of one format compare as strings.
local TIME_OPS = {
  eq = function(a, b) return a == b end, gt = function(a, b) return a > b end,
  gte = function(a, b) return a >= b end, lt = function(a, b) return a < b end,
  lte = function(a, b) return a <= b end,
}
function R.filter.time(param, field)
  local op = TIME_OPS[param:match("%[(%a+)%]$")] or TIME_OPS.eq
  return case(param, function(samples) return field_text(samples, field) end,
    function(item, v) local x = get(item, field) return x ~= nil and op(x, v) end)
end

-- param=body(PICK)[key], for fields the answers do not carry: the samples whose body had the
-- same value match (bulk-seeded records have none).
function R.filter.by_body(param, key, body)
  return case(param, function() return text(body(PICK)[key]) end,
    function(item, v, samples)
      for i, s in ipairs(samples) do
        if s.id == item.id then return body(i)[key] ~= nil and text(body(i)[key]) == v end
      end
      return false
    end)
end

-- A fixed value; `matches(item, v, samples)` says which records have it; expect as for eq.
function R.filter.fixed(param, value, matches, expect)
  return case(param, function() return value end, matches, expect)
end

-- {filter = {a = {b = v}}} from "filter[a][b]" and v.
local function nest(param, value)
  local names = { param:match("^([^%[]+)") }
  for name in param:gmatch("%[([^%]]+)%]") do names[#names + 1] = name end
  local root = {}
  local t = root
  for i = 1, #names - 1 do
    t[names[i]] = {}
    t = t[names[i]]
  end
  t[names[#names]] = value
  return root
end

---------------------------------------------------------------------------
-- Sorts: the mock's order (missing < false < true < numbers < strings, ties in creation
-- order; "-field" is the exact reverse), computed from the unfiltered list.
---------------------------------------------------------------------------
local function sort_rank(v)
  if v == nil then return 0, 0 end
  if type(v) == "boolean" then return 1, v and 1 or 0 end
  if type(v) == "number" then return 2, v end
  return 3, tostring(v)
end

function R.sorted_ids(items, sort)
  local desc = sort:sub(1, 1) == "-"
  local field = desc and sort:sub(2) or sort
  local decorated = {}
  for i, item in ipairs(items) do
    local rank, key = sort_rank(get(item, field))
    decorated[i] = { rank, key, i, item.id }
  end
  table.sort(decorated, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[3] < b[3]
  end)
  local out = {}
  for i, d in ipairs(decorated) do out[desc and #decorated - i + 1 or i] = d[4] end
  return out
end

---------------------------------------------------------------------------
-- Fresh data for a resource: the mock reset, R.SEEDED records bulk-created, R.SAMPLES
-- created through the client (def.body(i)); the first sample updated when the resource has
-- an update, so updated_at differs from created_at somewhere. Returns the sample objects
-- (as last answered) and the total number of records.
---------------------------------------------------------------------------
function R.fresh(env, def)
  local m, r = env.m, R.resource(env.client, def.name)
  m:reset(R.MOCK_SEED)
  local seeded = m:seed(def.name, R.SEEDED)
  assert.are.equal(R.SEEDED, seeded.created)
  local samples = {}
  for i = 1, R.SAMPLES do samples[i] = R.unwrap(def, r:create(def.body(i))) end
  if def.update then samples[1] = R.unwrap(def, r:update(samples[1].id, def.update)) end
  m:clear_requests()
  return samples, seeded.total + R.SAMPLES
end

-- The items of a list in creation order: the list's own order unless its default sort (per
-- the OpenAPI file) is newest first.
local function creation_order(def, items)
  if def.default_sort ~= "-created_at" then return items end
  local out = {}
  for i = #items, 1, -1 do out[#out + 1] = items[i] end
  return out
end

local function list_all(r, params)
  local p = copy(params or {})
  p.page = p.page or { size = 250 }
  return r:list(p):collect()
end
R.list_all = list_all

---------------------------------------------------------------------------
-- The standard tests of a resource
---------------------------------------------------------------------------
local describe, it = busted.describe, busted.it

-- The operation `method` of resource `name` in the generated table (the OpenAPI file's view).
local function operation(name, method)
  return require("telnyx.operations").find(name, method)
end

-- The calls that take an id: retrieve, update, delete and the def's actions.
local function id_calls(def)
  local calls = {}
  local has = set_of(def.methods)
  for _, method in ipairs({ "retrieve", "update", "delete" }) do
    if has[method] then
      calls[#calls + 1] = { resource = def.name, method = method, http = DEFAULT_HTTP[method],
                            suffix = "", params = method == "update" and def.update or nil }
    end
  end
  for _, a in ipairs(def.actions or {}) do
    if a.takes_id ~= false then calls[#calls + 1] = a end
  end
  return calls
end

local function invoke(client, call, id)
  local r = R.resource(client, call.resource)
  if call.params ~= nil then return r[call.method](r, id, call.params) end
  return r[call.method](r, id)
end

local function echoed(def, body)
  local out = copy(body)
  for _, k in ipairs(def.not_echoed or {}) do out[k] = nil end
  return out
end

local function contract_tests(env, def)
  it("has exactly the methods of the contract", function()
    local d = telnyx.describe(R.resource(env.client, def.name))
    assert.are.same(sorted_keys(set_of(def.methods)), sorted_keys(d.methods))
  end)

  it("covers every required field, filter and sort the OpenAPI file lists", function()
    local create = operation(def.name, "create")
    assert.are.same(sorted_keys(set_of(create.body.required)), sorted_keys(set_of(def.required)))
    local list = operation(def.name, "list")
    local params, sorts = {}, {}
    for _, q in ipairs(list.query) do
      if q.name == "sort" then
        for _, v in ipairs(q.enum or {}) do sorts[v] = true end
      elseif not q.name:match("^page%[") then
        params[q.name] = true
      end
    end
    local covered = {}
    for _, c in ipairs(def.filters or {}) do covered[c.param] = true end
    assert.are.same(sorted_keys(params), sorted_keys(covered))
    local tested = set_of(def.sorts or {})
    for v in pairs(sorts) do assert.is_true(tested[v], "sort=" .. v .. " is not tested") end
    for _, q in ipairs(list.query) do
      if q.name == "sort" then assert.are.equal(q.default, def.default_sort or "created_at") end
    end
  end)
end

local function create_tests(env, def)
  local path = "/v2/" .. def.name

  it("create sends POST " .. path .. " with the body as given and returns the "
     .. (def.wrapped and "{data=...} answer" or "bare object"), function()
    local r = R.resource(env.client, def.name)
    local body = def.body(101)
    local req, res = R.one(env.m, r.create, r, body)
    R.assert_request(req, "POST", path)
    assert.are.equal("application/json", req.headers["content-type"])
    R.assert_equal_json(body, R.body_of(req), "request body")
    local obj = R.unwrap(def, res)
    assert.are.equal("string", type(obj.id))
    assert.is_true(#obj.id > 0)
    R.assert_has(echoed(def, body), obj, "created object")
  end)

  it("create refuses an unknown field, and sends extra_body's exactly as given", function()
    local r = R.resource(env.client, def.name)
    local extra = {
      x_unknown_field = "kept as is",
      x_nested = { list = { 1, 2, 3 }, flag = false, deeper = { word = "a&b=c d" } },
    }
    local err = R.refused(env.m, r.create, r, copy(def.body(102), extra))
    assert.truthy(err:find(def.name .. ":create: unknown body field 'x_", 1, true), err)
    local req = R.one(env.m, r.create, r, def.body(102), { extra_body = extra })
    R.assert_equal_json(copy(def.body(102), extra), R.body_of(req), "request body")
  end)

  if #def.required > 0 then
    it("create raises before sending when a required field is missing, naming method and field", function()
      local r = R.resource(env.client, def.name)
      for _, field in ipairs(def.required) do
        local body = def.body(103)
        body[field] = nil
        local err = R.refused(env.m, r.create, r, body)
        assert.are.equal("string", type(err))
        assert.truthy(err:find(def.name .. ":create", 1, true), err)
        assert.truthy(err:find("'" .. field .. "'", 1, true), err)
      end
      local err = R.refused(env.m, r.create, r)
      assert.truthy(err:find(def.name .. ":create: missing required field", 1, true), err)
    end)
  end
end

local function item_tests(env, def)
  local has = set_of(def.methods)
  local base = "/v2/" .. def.name .. "/"

  local function created(i)
    return R.unwrap(def, R.resource(env.client, def.name):create(def.body(i)))
  end

  if has.retrieve then
    it("retrieve sends GET " .. base .. "{" .. def.id_param .. "} and returns the object", function()
      local r = R.resource(env.client, def.name)
      local obj = created(201)
      local req, res = R.one(env.m, r.retrieve, r, obj.id)
      R.assert_request(req, "GET", base .. obj.id)
      assert.are.equal("", req.body)
      local got = R.unwrap(def, res)
      assert.are.equal(obj.id, got.id)
      R.assert_has(echoed(def, def.body(201)), got, "retrieved object")
    end)
  end

  if has.update then
    it("update sends PATCH " .. base .. "{" .. def.id_param .. "} with the body and returns the change", function()
      local r = R.resource(env.client, def.name)
      local obj = created(202)
      local req, res = R.one(env.m, r.update, r, obj.id, def.update)
      R.assert_request(req, "PATCH", base .. obj.id)
      R.assert_equal_json(def.update, R.body_of(req), "request body")
      local got = R.unwrap(def, res)
      assert.are.equal(obj.id, got.id)
      R.assert_has(echoed(def, def.update), got, "updated object")
      if has.retrieve then
        R.assert_has(echoed(def, def.update), R.unwrap(def, r:retrieve(obj.id)), "object read back")
      end
    end)
  end

  if has.delete then
    it("delete sends DELETE " .. base .. "{" .. def.id_param .. "} and the record is gone", function()
      local r = R.resource(env.client, def.name)
      local obj = created(203)
      local req, res = R.one(env.m, r.delete, r, obj.id)
      R.assert_request(req, "DELETE", base .. obj.id)
      assert.are.equal("", req.body)
      if def.delete_returns_nil then
        assert.is_nil(res)
      else
        assert.are.equal(obj.id, R.unwrap(def, res).id)
      end
      if has.retrieve then
        local ok, err = pcall(r.retrieve, r, obj.id)
        assert.is_false(ok)
        assert.is_true(telnyx.is_error(err, "NotFoundError"), tostring(err))
      else
        for _, item in ipairs(list_all(r)) do assert.are_not.equal(obj.id, item.id) end
      end
    end)
  end

  for _, call in ipairs(id_calls(def)) do
    local name = call.resource .. ":" .. call.method
    it(name .. " percent-encodes ids into one path segment the mock sees exactly", function()
      for _, odd in ipairs(R.ODD_IDS) do
        local reqs, ok, err = R.sent(env.m, invoke, env.client, call, odd.id)
        assert.is_false(ok, "no record has id " .. odd.id)
        assert.is_true(telnyx.is_error(err, "NotFoundError"), odd.id .. ": " .. tostring(err))
        assert.are.equal(1, #reqs, odd.id .. ": " .. show_requests(reqs))
        R.assert_request(reqs[1], call.http, base .. odd.segment .. call.suffix)
      end
    end)

    it(name .. " raises before sending for ids that are not non-empty strings", function()
      for _, bad in ipairs(R.BAD_IDS) do
        local err = R.refused(env.m, invoke, env.client, call, bad.value)
        assert.are.equal("string", type(err))
        assert.truthy(err:find(name .. ":", 1, true), err)
        assert.truthy(err:find(def.id_param .. " must be a non-empty string", 1, true), err)
        assert.truthy(err:find(bad.what, 1, true), err)
      end
    end)
  end
end

local function list_tests(env, def)
  local path = "/v2/" .. def.name

  it("list walks " .. R.SEEDED .. "+ records with page[size] 1, 7 and 250: each record once, "
     .. "one request per page, no extra request", function()
    local r = R.resource(env.client, def.name)
    local samples, total = R.fresh(env, def)
    assert.is_true(total >= 600)
    local reference
    for _, size in ipairs(R.PAGE_SIZES) do
      local reqs, ok, items = R.sent(env.m, list_all, r, { page = { size = size } })
      assert.is_true(ok, tostring(items))
      local ids = R.ids(creation_order(def, items))
      assert.are.equal(total, #ids, "page[size]=" .. size)
      assert.is_true(all_distinct(ids), "a record came twice with page[size]=" .. size)
      -- the samples were created last, so they come last, in order
      for i, s in ipairs(samples) do assert.are.equal(s.id, ids[total - #samples + i]) end
      if reference then assert.are.same(reference, ids) else reference = ids end
      local pages = (total + size - 1) // size
      assert.are.equal(pages, #reqs, "page[size]=" .. size)
      for n, req in ipairs(reqs) do
        assert.are.equal("GET", req.method)
        assert.are.equal(path, req.path)
        assert.are.same({ ["page[number]"] = tostring(n), ["page[size]"] = tostring(size) },
          req.query_params)
      end
      assert.are.equal("page%5Bnumber%5D=1&page%5Bsize%5D=" .. size, reqs[1].query)
    end
  end)

  for _, c in ipairs(def.filters or {}) do
    it("list " .. c.param .. " is sent and only matching records come back", function()
      local r = R.resource(env.client, def.name)
      local samples = R.fresh(env, def)
      local all = list_all(r)
      local value = c.pick(samples)
      local want = {}
      for _, item in ipairs(all) do
        if c.match(item, value, samples) then want[#want + 1] = item.id end
      end
      if c.expect == "none" then assert.are.equal(0, #want)
      elseif c.expect == "all" then assert.are.equal(#all, #want)
      else
        assert.is_true(#want > 0 and #want < #all,
          string.format("%s=%s matches %d of %d records", c.param, value, #want, #all))
      end
      local params = nest(c.param, value)
      local reqs, ok, got = R.sent(env.m, list_all, r, params)
      assert.is_true(ok, tostring(got))
      assert.are.same(want, R.ids(got))
      assert.is_true(#reqs >= 1)
      for _, req in ipairs(reqs) do
        assert.are.equal(path, req.path)
        assert.are.equal(value, req.query_params[c.param], show_request(req))
      end
    end)
  end

  for _, sort in ipairs(def.sorts or {}) do
    it("list sort=" .. sort .. " is sent and the records come back in that order", function()
      local r = R.resource(env.client, def.name)
      R.fresh(env, def)
      local listed = list_all(r)
      local want = R.sorted_ids(creation_order(def, listed), sort)
      if sort ~= (def.default_sort or "created_at") then
        assert.are_not.same(R.ids(listed), want, "sort=" .. sort .. " cannot be told from the default order")
      end
      local reqs, ok, got = R.sent(env.m, list_all, r, { sort = sort })
      assert.is_true(ok, tostring(got))
      assert.are.same(want, R.ids(got))
      for _, req in ipairs(reqs) do assert.are.equal(sort, req.query_params.sort) end
    end)
  end
end

-- Describes the standard tests of a resource, then def.more(env, def) for the tests peculiar
-- to it (they share the mock: env.m, env.client).
function R.describe_resource(def)
  describe("client." .. def.name, function()
    local env = R.env()
    contract_tests(env, def)
    create_tests(env, def)
    item_tests(env, def)
    list_tests(env, def)
    if def.more then def.more(env, def) end
  end)
end

return R
