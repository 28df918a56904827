-- Hostile input: ids and parameters built to break out of their place in a request (`../`,
-- `?`, `#`, CR/LF, NUL, 1 MB strings), and values of the wrong type handed to every entry
-- point of the public API. Each is either sent safely encoded (checked on what the mock
-- received) or refused with a clear error before anything is sent (the mock's log stays
-- empty); nothing crashes. The fuzz targets' corpora are replayed here too, so every input
-- they keep (and every crash they found) runs in make test and make sanitize.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"
-- the account-access operations: those the mock serves
local resources = { operations = require("spec.support.api").account_access() }

local MB = 1024 * 1024

-- Calls f(...) expecting an error; returns its text (tostring of an error object).
local function refused(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  local text = tostring(err)
  assert.is_true(#text < 2048, "an error of " .. #text .. " bytes")
  return text
end

-- The resource object of an operation ("addresses.actions" -> client.addresses.actions).
local resource_of = require("telnyx.cli").resource

-- Arguments that make a valid call of `op`: an id when it has one, required body fields.
local function valid_args(op)
  local args = {}
  if op.positional then args[#args + 1] = "some-id" end
  if op.body then
    local params = {}
    for _, field in ipairs(op.body.required or {}) do params[field] = "x" end
    args[#args + 1] = params
  elseif op.pagination or #(op.query or {}) > 0 then
    args[#args + 1] = {}
  end
  return args
end

local function takes_params(op) return op.body ~= nil or op.pagination or #(op.query or {}) > 0 end

-- Calls the operation with the arguments after `self`; a list is iterated, so what it checks
-- at the first fetch is checked too.
local function call(op, self, ...)
  local r = resource_of(self.client, op.resource)
  local fn = r[op.method]
  local result = fn(self.self or r, ...)
  if op.pagination then result:collect(1) end
  return result
end

local function files_in(dir)
  local out = {}
  local p = assert(io.popen("ls -1 " .. dir .. " 2>/dev/null"))
  for name in p:lines() do out[#out + 1] = dir .. "/" .. name end
  p:close()
  return out
end

describe("hostile input", function()
  local m, c

  setup(function() m = mock.start { seed = 29 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function()
    m:reset()
    c = H.client(m, { max_retries = 0 })
  end)

  local function sent() return H.requests(m, "/v2/") end

  describe("ids that try to leave their path segment", function()
    local ids = {
      ["../"] = "../access_ip_ranges", ["?"] = "x?page[size]=1", ["#"] = "x#fragment",
      ["CR/LF"] = "x\r\nX-Injected: 1", ["NUL"] = "x\0y", ["..."] = "...",
      ["/"] = "a/b/c", ["%"] = "%2F%00", ["space and UTF-8"] = "caf\u{e9} id",
    }
    for what, id in pairs(ids) do
      it(what .. ": one percent-encoded segment under the resource, a 404 from the API", function()
        local text = refused(c.billing_groups.retrieve, c.billing_groups, id)
        assert.matches("^NotFoundError: 404 GET /v2/billing_groups/", text)
        local reqs = sent()
        assert.are.equal(1, #reqs)
        local segment = reqs[1].path:match("^/v2/billing_groups/([^/?#]+)$")
        assert.is_not_nil(segment, "left its segment: " .. reqs[1].path)
        assert.matches("^[%w%-._~%%]+$", segment)
        local decoded = segment:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
        assert.are.equal(id, decoded)
      end)
    end

    -- "." and ".." are refused before sending: spec/request_guard_spec.lua.

    it("the same for every operation that takes an id, each sent to its own path", function()
      local n = 0
      for _, op in ipairs(resources.operations) do
        if op.positional then
          local args = valid_args(op)
          args[1] = "../x?y#z\r\n\0"
          pcall(call, op, { client = c }, table.unpack(args))
          n = n + 1
          local reqs = sent()
          assert.are.equal(n, #reqs, op.resource .. ":" .. op.method)
          local path = reqs[n].path
          local expected = "/v2" .. op.path:gsub("{[^}]+}", "..%%2Fx%%3Fy%%23z%%0D%%0A%%00")
          assert.are.equal(expected, path, op.resource .. ":" .. op.method)
        end
      end
      assert.is_true(n >= 15)
    end)

    it("a 1 MB id is refused before sending, with a short message", function()
      local text = refused(c.billing_groups.retrieve, c.billing_groups, string.rep("z", MB))
      assert.matches("request URL would be %d+ bytes", text)
      assert.are.same({}, sent())
    end)
  end)

  describe("parameters that try to leave their place", function()
    local nasty = "a&page[size]=1#x\r\n\0=?/%25"

    it("query keys and values arrive exactly as given, percent-encoded", function()
      c:request("GET", "/billing_groups", { query = { filter = { name = nasty }, ["x&y=z"] = nasty } })
      local reqs = sent()
      assert.are.equal(1, #reqs)
      assert.are.equal(nasty, reqs[1].query_params["filter[name]"])
      assert.are.equal(nasty, reqs[1].query_params["x&y=z"])
      assert.is_nil(reqs[1].query_params["page[size]"])
    end)

    it("a query name with a NUL byte is refused, not cut short", function()
      local text = refused(c.request, c, "GET", "/billing_groups", { query = { ["a\0b"] = "1" } })
      assert.matches("must not contain NUL", text)
      text = refused(c.request, c, "GET", "/billing_groups", { query = { filter = { ["a\0b"] = "1" } } })
      assert.matches("must not contain NUL", text)
      assert.are.same({}, sent())
    end)

    it("body strings with CR/LF, NUL and quotes arrive intact as JSON", function()
      local name = nasty .. '"\\' .. "\u{1F600}"
      local created = c.billing_groups:create { name = name }
      assert.are.equal(name, created.data.name)
      assert.are.equal(name, telnyx.json.decode(sent()[1].body).name)
    end)

    it("a 1 MB body string is sent and comes back whole", function()
      local name = string.rep("\0\r\n\"", MB // 4)
      assert.are.equal(name, c.billing_groups:create { name = name }.data.name)
    end)

    it("a 1 MB query value, header value or API key is refused before sending", function()
      local big = string.rep("y", MB)
      assert.matches("request URL would be", refused(c.request, c, "GET", "/billing_groups",
                                                     { query = { filter = { name = big } } }))
      assert.matches("longer than 8192 bytes", refused(c.request, c, "GET", "/billing_groups",
                                                       { headers = { ["X-Big"] = big } }))
      assert.matches("longer than 8192 bytes",
                     refused(telnyx.new, { api_key = big, base_url = m.url }))
      assert.matches("longer than 8192 bytes",
                     refused(telnyx.new, { base_url = m.url, headers = { ["X-Big"] = big } }))
      assert.are.same({}, sent())
    end)

    it("header names and values that would split the request are refused", function()
      for _, headers in ipairs {
        { ["X-A"] = "v\r\nX-Injected: 1" }, { ["X-A"] = "v\0" }, { ["X-A\r\nX-B"] = "v" },
        { ["Bad Name"] = "v" }, { [""] = "v" }, { ["X-A:"] = "v" },
      } do
        refused(c.request, c, "GET", "/billing_groups", { headers = headers })
        refused(telnyx.new, { api_key = H.API_KEY, base_url = m.url, headers = headers })
      end
      assert.are.same({}, sent())
    end)

    it("client:request refuses a path that would carry a query, a fragment or control bytes", function()
      for _, path in ipairs { "/x?y=1", "/x#y", "/x\r\nHost: evil", "/x\0", "/x y", "x", "" } do
        refused(c.request, c, "GET", path)
      end
      assert.are.same({}, sent())
    end)
  end)

  describe("wrong types, refused with a clear error and nothing sent", function()
    after_each(function() assert.are.same({}, sent()) end)

    it("telnyx.new", function()
      for _, opts in ipairs {
        5, "x", true, { api_key = 5 }, { api_key = {} }, { base_url = false }, { base_url = 5 },
        { timeout = "x" }, { timeout = -1 }, { timeout = 0 }, { timeout = 1 / 0 }, { timeout = 0 / 0 },
        { max_retries = 1.5 }, { max_retries = "2" }, { max_retries = -1 }, { max_retries = 1e9 },
        { headers = "x" }, { headers = { [1] = "x" } }, { headers = { X = 5 } }, { headers = { X = {} } },
        { bogus = 1 }, { [1] = "x" },
      } do
        local text = refused(telnyx.new, opts)
        assert.matches("telnyx.new", text)
      end
    end)

    it("client:request and a closed client", function()
      for _, args in ipairs {
        { 5, "/x" }, { "FETCH", "/x" }, { "GET" }, { "GET", {} }, { "GET", "/x", "opts" },
        { "GET", "/x", { query = "x" } }, { "GET", "/x", { body = print } },
        { "GET", "/x", { body = { f = print } } }, { "GET", "/x", { headers = 5 } },
        { "GET", "/x", { timeout = "x" } }, { "GET", "/x", { max_retries = -1 } },
        { "GET", "/x", { bogus = true } }, { "GET", "/x", { query = { a = print } } },
        { "GET", "/x", { query = { a = { b = { c = { d = { e = { f = { g = { h = { i = { j = 1 } } } } } } } } } } } },
      } do
        refused(c.request, c, table.unpack(args))
      end
      refused(c.request, nil, "GET", "/x")
      refused(c.request, {}, "GET", "/x")
      refused(c.request, c.billing_groups, "GET", "/x")
      local closed = H.client(m)
      closed:close()
      assert.matches("closed", refused(function() return closed:request("GET", "/billing_groups") end))
      assert.matches("closed", refused(function() return closed.billing_groups end))
      local r = c.billing_groups
      c:close()
      assert.matches("closed", refused(r.list, r))
    end)

    it("every method: its id, params and opts, and its self", function()
      local bad_ids = { false, 5, {}, "", print }
      local bad_params = { "x", 5, true, print }
      local bad_opts = { "x", 5, { bogus = 1 }, { timeout = "x" }, { max_retries = -1 },
                         { headers = "x" }, { headers = { ["Bad Name"] = "v" } } }
      local n = 0
      for _, op in ipairs(resources.operations) do
        local name = op.resource .. ":" .. op.method
        local args = valid_args(op)
        local function with(i, v)
          local a = { table.unpack(args) }
          a[i] = v
          return table.unpack(a, 1, math.max(#args, i))
        end
        if op.positional then
          for _, id in ipairs(bad_ids) do
            assert.matches(name, refused(call, op, { client = c }, with(1, id)), nil, true)
            n = n + 1
          end
          assert.matches(name, refused(call, op, { client = c }), nil, true) -- no id at all
        end
        local params_at = op.positional and 2 or 1
        if takes_params(op) then
          for _, p in ipairs(bad_params) do
            assert.matches("params must be a table", refused(call, op, { client = c }, with(params_at, p)))
            n = n + 1
          end
        end
        local opts_at = takes_params(op) and params_at + 1 or params_at
        for _, o in ipairs(bad_opts) do
          refused(call, op, { client = c }, with(opts_at, o))
          n = n + 1
        end
        for _, self in ipairs { 5, "x", {}, c } do
          refused(call, op, { client = c, self = self }, table.unpack(args))
        end
      end
      assert.is_true(n > 200)
    end)

    it("telnyx.map's arguments, and a task raising odd values", function()
      local f = function(x) return x end
      for _, args in ipairs {
        {}, { nil, f }, { "x", f }, { { 1 } }, { { 1 }, "f" }, { { 1 }, f, "opts" },
        { { 1 }, f, { concurrency = 0 } }, { { 1 }, f, { concurrency = 1.5 } },
        { { 1 }, f, { concurrency = 100000 } }, { { 1 }, f, { concurrency = "2" } },
        { { 1 }, f, { bogus = true } },
      } do
        refused(telnyx.map, table.unpack(args, 1, 3))
      end
      local results, failures = telnyx.map({ 1, 2, 3, 4 }, function(i)
        if i == 1 then error(nil) end
        if i == 2 then error({ code = 2 }) end
        if i == 3 then error(setmetatable({}, { __tostring = function() error("boom") end })) end
        return telnyx.map({ 1 }, f) -- nested: refused
      end)
      assert.are.same({}, results)
      assert.are.equal(4, #failures)
      table.sort(failures, function(a, b) return a.index < b.index end)
      assert.is_nil(failures[1].error)
      assert.are.same({ code = 2 }, failures[2].error)
      assert.matches("cannot run inside a telnyx.map task", failures[4].error)
      local r2 = telnyx.map({}, f)
      assert.are.same({}, r2)
    end)

    it("pager methods", function()
      local pager = c.billing_groups:list()
      for _, limit in ipairs { "x", -1, 1.5, {} } do
        assert.matches("limit must be a non%-negative integer", refused(pager.collect, pager, limit))
      end
      for _, self in ipairs { 5, "x", {}, c } do
        refused(pager.collect, self)
        refused(pager.pages, self)
        refused(pager.items, self)
        refused(pager.info, self)
      end
      for _, params in ipairs {
        { page = { size = "x" } }, { page = { size = 0 } }, { page = { number = -1 } },
        { ["page[size]"] = 2.5 }, { filter = print }, { filter = { name = {} , x = { [true] = 1 } } },
      } do
        refused(function() return c.billing_groups:list(params):collect() end)
      end
      pager:close()
      assert.matches("closed", refused(pager.collect, pager))
      assert.matches("closed", refused(pager.pages, pager))
    end)

    it("telnyx.json", function()
      local json = telnyx.json
      for _, v in ipairs { nil, {}, print, true } do refused(json.decode, v) end
      for _, text in ipairs { "", "\0", "[", "{\"a\":}", "nul", "1 2", string.rep("[", 2000) } do
        assert.matches("invalid JSON", refused(json.decode, text))
      end
      local cycle = {}
      cycle[1] = cycle
      for _, v in ipairs {
        print, io.stdout, coroutine.create(print), { print }, { [{}] = 1 }, { [true] = 1 },
        { 1, nil, 3 }, { 1, x = 2 }, cycle, 0 / 0, 1 / 0, "\255", { ["\255"] = 1 },
      } do
        refused(json.encode, v)
      end
      refused(json.encode)
      -- a regression: a metatable whose __name is not a string crashed the encoder
      assert.are.equal("{}", json.encode(setmetatable({}, { __name = {} })))
      assert.are.equal('{"a":1}', json.encode(setmetatable({ a = 1 }, { __name = 5 })))
      for _, v in ipairs { "x", 5, true } do refused(json.array, v) end
    end)

    it("telnyx.is_error, telnyx.describe and indexing", function()
      assert.is_false(telnyx.is_error(nil))
      assert.is_false(telnyx.is_error("x", "NotFoundError"))
      local err = select(2, pcall(c.billing_groups.retrieve, c.billing_groups, ""))
      assert.is_false(telnyx.is_error(err))
      assert.is_nil(telnyx.describe(5))
      assert.is_nil(telnyx.describe({}))
      assert.truthy(refused(function() return c.no_such_resource end):find("unknown resource", 1, true))
      assert.truthy(refused(function() return c.billing_groups.no_such_method end):find("unknown method", 1, true))
      refused(function() return c[{}] end)
    end)

    it("telnyx.describe hands out copies: changing them changes no client", function()
      local ips = c.access_ip_address
      local d = telnyx.describe(c)
      d.resources.access_ip_address.create = nil
      d.resources.billing_groups = nil
      telnyx.describe(ips).methods.list = nil
      local op = telnyx.describe(ips.create).op
      op.path, op.http_method, op.body.fields = "/elsewhere", "DELETE", {}
      assert.is_function(ips.create)
      assert.is_function(ips.list)
      assert.is_not_nil(c.billing_groups)
      op = telnyx.describe(ips.create).op
      assert.are.equal("/access_ip_address", op.path)
      assert.are.equal("POST", op.http_method)
      assert.is_true(#op.body.fields > 0)
      assert.is_true(telnyx.describe(c).resources.access_ip_address.create)
    end)
  end)

  describe("the fuzz targets' corpora, replayed", function()
    -- Runs every input kept in a fuzz target's corpus through its harness.
    local function replay(harness, corpus)
      local run = dofile(harness)
      local files = files_in(corpus)
      assert.is_true(#files > 0)
      for _, path in ipairs(files) do
        local f = assert(io.open(path, "rb"))
        local ok, err = pcall(run, f:read("a"))
        f:close()
        assert.is_true(ok, path .. ": " .. tostring(err))
      end
    end

    it("telnyx.json: every kept input decodes or fails cleanly, and round-trips", function()
      replay("spec/fuzz/json_harness.lua", "spec/fuzz/corpus/fuzz_json")
    end)

    it("the allowlist parser: every kept input is refused line by line or parsed to normal forms", function()
      replay("spec/fuzz/allowlist_harness.lua", "spec/fuzz/corpus/fuzz_allowlist")
    end)
  end)
end)
