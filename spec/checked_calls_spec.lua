-- Every call checked against the spec before anything is sent (lua/telnyx/check.lua, called by
-- src/resource.c): each kind of bad call is refused with one line naming the method, the
-- parameter, what was expected and the nearest valid name, and the mock's request log stays
-- empty; unknown resources and methods raise at indexing; extra_query, extra_body and
-- extra_headers reach the mock unchecked. The checker's handling of what only the full table
-- states (nested fields, lengths, patterns, exclusive bounds...) is checked on entries written
-- in that format (scripts/build/TABLE.md).
local R = require "spec.support.resources"
local telnyx = require "telnyx"

local function one_line(err)
  assert.are.equal("string", type(err))
  assert.is_nil(err:find("\n", 1, true), err)
  return err
end

describe("checked calls", function()
  local env = R.env()

  -- The call must raise `want` exactly, sending nothing.
  local function refused_with(want, fn, ...)
    local err = one_line(R.refused(env.m, fn, ...))
    assert.are.equal(want, err)
  end

  describe("unknown names in a call", function()
    it("a misspelled filter key, nested or flat, with the nearest valid one", function()
      local r = env.client.access_ip_address
      refused_with("access_ip_address:list: unknown query parameter 'filter[ip_adress]' (did you mean ip_address?)",
        r.list, r, { filter = { ip_adress = "203.0.113.7" } })
      refused_with("access_ip_address:list: unknown query parameter 'filter[ip_adress]' "
        .. "(did you mean filter[ip_address]?)", r.list, r, { ["filter[ip_adress]"] = "203.0.113.7" })
      local ranges = env.client.access_ip_ranges
      refused_with("access_ip_ranges:list: unknown query parameter 'filter[cidr_block][contain]' "
        .. "(did you mean contains?)", ranges.list, ranges, { filter = { cidr_block = { contain = "10." } } })
    end)

    it("a missing required query parameter, flat or nested; given either way, it is sent", function()
      local r = env.client.charges_breakdown
      refused_with("charges_breakdown:retrieve: missing required query parameter 'start_date'", r.retrieve, r)
      refused_with("charges_breakdown:retrieve: missing required query parameter 'start_date'",
        r.retrieve, r, { end_date = "2025-02-01" })
      env.m:clear_requests()
      r:retrieve { start_date = "2025-01-01" }
      local log = env.m:requests()
      assert.are.equal(1, #log)
      assert.matches("start_date=2025%-01%-01", log[1].query)
    end)

    it("an unknown query parameter, and one with no near name", function()
      local r = env.client.telephony_credentials
      refused_with("telephony_credentials:list: unknown query parameter 'pgae' (did you mean page?)",
        r.list, r, { pgae = { size = 5 } })
      refused_with("telephony_credentials:list: unknown query parameter 'zzz'", r.list, r, { zzz = 1 })
      refused_with("telephony_credentials:list: unknown query parameter 'page[sise]' (did you mean size?)",
        r.list, r, { page = { sise = 5 } })
    end)

    it("a misspelled body field, on create and update", function()
      local r = env.client.billing_groups
      refused_with("billing_groups:create: unknown body field 'nmae' (did you mean name?)",
        r.create, r, { nmae = "x" })
      refused_with("billing_groups:update: unknown body field 'nme' (did you mean name?)",
        r.update, r, "some-id", { nme = "x" })
      local c = env.client.credential_connections
      refused_with("credential_connections:create: unknown body field 'user_nmae' (did you mean user_name?)",
        c.create, c, { connection_name = "c", password = "p4ssw0rd!", user_nmae = "u" })
    end)

    it("a misspelled required field is reported as the misspelling, not as missing", function()
      local r = env.client.access_ip_address
      refused_with("access_ip_address:create: unknown body field 'ip_adress' (did you mean ip_address?)",
        r.create, r, { ip_adress = "203.0.113.7" })
    end)

    it("sort on a list that has none, and a sort outside the enum", function()
      local bg = env.client.billing_groups
      refused_with("billing_groups:list: unknown query parameter 'sort' (this list takes no sort)",
        bg.list, bg, { sort = "name" })
      local a = env.client.addresses
      refused_with("addresses:list: sort must be one of created_at, first_name, last_name, business_name, "
        .. "street_address (a leading - sorts descending); got 'frist_name' (did you mean first_name?)",
        a.list, a, { sort = "frist_name" })
    end)

    it("a descending sort of an enum field is sent", function()
      local a = env.client.addresses
      local p = a:list { sort = "-street_address", page = { size = 1 } }
      local req = R.one(env.m, p.collect, p, 1)
      assert.are.equal("-street_address", req.query_params.sort)
    end)
  end)

  describe("wrong values", function()
    it("a wrong type, naming what was expected", function()
      local bg = env.client.billing_groups
      refused_with("billing_groups:create: name must be a string, got an integer", bg.create, bg, { name = 42 })
      local c = env.client.credential_connections
      local base = { connection_name = "c", password = "p4ssw0rd!", user_name = "user1" }
      local function with(k, v)
        local t = {}
        for key, value in pairs(base) do t[key] = value end
        t[k] = v
        return t
      end
      refused_with("credential_connections:create: active must be a boolean, got a string",
        c.create, c, with("active", "yes"))
      refused_with("credential_connections:create: webhook_timeout_secs must be an integer or null, got a string",
        c.create, c, with("webhook_timeout_secs", "25"))
      refused_with("credential_connections:create: webhook_timeout_secs must be an integer or null, "
        .. "got a number with a fraction", c.create, c, with("webhook_timeout_secs", 2.5))
      refused_with("credential_connections:create: tags must be an array, got a table with named keys",
        c.create, c, with("tags", { a = "x" }))
      refused_with("credential_connections:create: tags[2] must be a string, got a boolean",
        c.create, c, with("tags", { "a", true }))
      refused_with("credential_connections:create: inbound must be an object, got an array",
        c.create, c, with("inbound", { 1, 2 }))
      refused_with("credential_connections:create: active must be a boolean, got null",
        c.create, c, with("active", telnyx.null))
    end)

    it("x|null takes telnyx.null (sent as null), an integral float takes an integer's place", function()
      local c = env.client.credential_connections
      local req = R.one(env.m, c.create, c, { connection_name = "c", password = "p4ssw0rd!", user_name = "user1",
        webhook_timeout_secs = telnyx.null, android_push_credential_id = telnyx.null, tags = {} })
      assert.truthy(req.body:find('"webhook_timeout_secs":null', 1, true), req.body)
      req = R.one(env.m, c.create, c, { connection_name = "c", password = "p4ssw0rd!", user_name = "user1",
        webhook_timeout_secs = 25.0 })
      assert.truthy(req.body:find('"webhook_timeout_secs":25', 1, true), req.body)
    end)

    it("a value outside an enum, with the nearest listed one", function()
      local s = env.client.integration_secrets
      refused_with("integration_secrets:create: type must be one of bearer, basic; got 'beerer' (did you mean bearer?)",
        s.create, s, { identifier = "x", type = "beerer", token = "t" })
      refused_with("integration_secrets:list: filter[type] must be one of bearer, basic; got 'other'",
        s.list, s, { filter = { type = "other" } })
    end)

    it("a value outside a minimum or maximum", function()
      local c = env.client.credential_connections
      refused_with("credential_connections:create: webhook_timeout_secs must be at most 30, got 31",
        c.create, c, { connection_name = "c", password = "p4ssw0rd!", user_name = "u", webhook_timeout_secs = 31 })
      refused_with("credential_connections:create: webhook_timeout_secs must be at least 0, got -1",
        c.create, c, { connection_name = "c", password = "p4ssw0rd!", user_name = "u", webhook_timeout_secs = -1 })
      local a = env.client.addresses
      refused_with("addresses:list: page[size] must be at most 250, got 251", a.list, a, { page = { size = 251 } })
      refused_with("addresses:list: page[number] must be at least 1, got 0", a.list, a, { ["page[number]"] = 0 })
    end)

    it("a query value is text: a boolean is sent as the word a string filter takes", function()
      local a = env.client.addresses
      local p = a:list { filter = { address_book = { eq = true } }, page = { size = 2 } }
      local req = R.one(env.m, p.collect, p, 1)
      assert.are.equal("true", req.query_params["filter[address_book][eq]"])
      refused_with("addresses:list: page[size] must be an integer, got a string", a.list, a, { page = { size = "two" } })
    end)

    it("a table where a filter's keys go", function()
      local r = env.client.access_ip_ranges
      refused_with("access_ip_ranges:list: filter must be a table of cidr_block, created_at, got a string",
        r.list, r, { filter = "10.0.0.0/8" })
    end)
  end)

  describe("required fields and path parameters (the messages kept)", function()
    it("a missing required field and a bad id", function()
      local r = env.client.access_ip_address
      refused_with("access_ip_address:create: missing required field 'ip_address'", r.create, r, { description = "d" })
      refused_with("access_ip_address:create: missing required field 'ip_address'", r.create, r)
      refused_with("access_ip_address:retrieve: access_ip_address_id must be a non-empty string, got an empty string",
        r.retrieve, r, "")
      refused_with("access_ip_address:delete: access_ip_address_id must be a non-empty string, got number",
        r.delete, r, 5)
    end)
  end)

  describe("bodies that come whole (raw bytes, a JSON array)", function()
    it("a required one left out is refused; beside it, query parameters are still checked", function()
      local keys = env.client.storage.kvs.keys
      refused_with("storage.kvs.keys:update: missing the request body (raw bytes, a string or a telnyx.file): "
        .. "pass it as params.body, or in place of params", keys.update, keys, "k1", { id = "ns1" })
      refused_with("storage.kvs.keys:update: unknown query parameter 'ttl_sec' (did you mean ttl_secs?)",
        keys.update, keys, "k1", { id = "ns1", ttl_sec = 60, body = "v" })
      local reasons = env.client.call_reasons
      refused_with("call_reasons:validate: missing the request body (a JSON array): pass it as params.body",
        reasons.validate, reasons)
      refused_with("call_reasons:validate: params must have named keys, got the key 1 (number); the body "
        .. "(a JSON array) goes whole in params.body", reasons.validate, reasons, { "spam" })
      refused_with("call_reasons:validate: unknown parameter 'bdy' (did you mean body?)",
        reasons.validate, reasons, { bdy = { "spam" } })
      -- an array body is checked as a field would be: its size and its items
      refused_with("call_reasons:validate: body must have at least 1 item, got 0", reasons.validate, reasons,
        { body = {} })
      refused_with("call_reasons:validate: body[2] must be at most 64 characters long, got 65",
        reasons.validate, reasons, { body = { "spam", string.rep("x", 65) } })
      refused_with("call_reasons:validate: body must be an array, got a string", reasons.validate, reasons,
        { body = "spam" })
    end)

    it("given, it is sent, with the query parameters beside it", function()
      env.m:clear_requests()
      local keys = env.client.storage.kvs.keys
      keys:update("k1", { id = "ns1", ttl_secs = 60, body = "value bytes" })
      local log = env.m:requests()
      assert.are.equal(1, #log)
      assert.are.equal("PUT", log[1].method)
      assert.are.equal("/v2/storage/kvs/ns1/keys/k1", log[1].path)
      assert.are.equal("ttl_secs=60", log[1].query)
      assert.are.equal("value bytes", log[1].body)
      env.m:clear_requests()
      local reasons = env.client.call_reasons
      reasons:validate { body = { "Billing inquiries", "Appointment reminders" } }
      log = env.m:requests()
      assert.are.equal(1, #log)
      assert.are.equal('["Billing inquiries","Appointment reminders"]', log[1].body)
      env.m:clear_requests()
    end)
  end)

  describe("unknown resources and methods, at indexing", function()
    it("raises one line naming what was indexed, with the nearest name", function()
      local c = env.client
      local function raised(f)
        local ok, err = pcall(f)
        assert.is_false(ok)
        return one_line(err)
      end
      assert.are.equal("client: unknown resource or method 'billing_group' (did you mean billing_groups?)",
        raised(function() return c.billing_group end))
      assert.are.equal("billing_groups: unknown method or resource 'lst' (did you mean list?)",
        raised(function() return c.billing_groups:lst() end))
      assert.are.equal("addresses: unknown method or resource 'actoins' (did you mean actions?)",
        raised(function() return c.addresses.actoins end))
      assert.are.equal("addresses.actions: unknown method or resource 'validat' (did you mean validate?)",
        raised(function() return c.addresses.actions.validat end))
      assert.are.equal("client: unknown resource or method 'reqest' (did you mean request?)",
        raised(function() return c:reqest("GET", "/x") end))
      assert.are.equal("client: unknown resource or method 'nothing_like_it'",
        raised(function() return c.nothing_like_it end))
      assert.are.same({}, env.m:requests())
    end)

    it("keeps every Client and Resource field working", function()
      local c = R.new_client(env.m)
      assert.are.equal(env.m.url, c.base_url)
      assert.is_function(c.request)
      assert.is_function(c.close)
      assert.are.equal("telnyx.Resource (addresses.actions)", tostring(c.addresses.actions))
      assert.is_function(c.addresses.actions.validate)
      local req = R.one(env.m, c.request, c, "GET", "/billing_groups")
      assert.are.equal("/v2/billing_groups", req.path)
      assert.are.equal("client", telnyx.describe(c).kind)
      c:close()
    end)
  end)

  describe("extra_query, extra_body and extra_headers", function()
    it("reach the mock unchecked, merged after the checked parameters", function()
      local bg = env.client.billing_groups
      local req = R.one(env.m, bg.create, bg, { name = "kept" }, {
        extra_body = { x_extra = { deep = true }, name = "replaced" },
        extra_query = { x_trace = "t1" },
        extra_headers = { ["X-Extra-Header"] = "h1" },
      })
      assert.are.equal("POST", req.method)
      R.assert_equal_json({ name = "replaced", x_extra = { deep = true } }, R.body_of(req), "request body")
      assert.are.equal("t1", req.query_params.x_trace)
      assert.are.equal("h1", req.headers["x-extra-header"])
    end)

    it("extra_body alone makes the body; extra_headers go over the call's headers", function()
      local bg = env.client.billing_groups
      local req = R.one(env.m, bg.create, bg, nil, {
        extra_body = { name = "only extras" },
        headers = { ["X-A"] = "a", ["X-B"] = "b" }, extra_headers = { ["X-B"] = "extra" },
      })
      R.assert_equal_json({ name = "only extras" }, R.body_of(req), "request body")
      assert.are.equal("a", req.headers["x-a"])
      assert.are.equal("extra", req.headers["x-b"])
    end)

    it("go on every page of a list", function()
      env.m:reset(R.MOCK_SEED)
      env.m:seed("billing_groups", 5)
      env.m:clear_requests()
      local items = env.client.billing_groups:list({ page = { size = 2 } },
        { extra_query = { filter = { undocumented = "x" } }, extra_headers = { ["X-Trace"] = "t" } }):collect()
      assert.are.equal(5, #items)
      local reqs = env.m:requests()
      assert.are.equal(3, #reqs)
      for _, req in ipairs(reqs) do
        assert.are.equal("x", req.query_params["filter[undocumented]"])
        assert.are.equal("2", req.query_params["page[size]"])
        assert.are.equal("t", req.headers["x-trace"])
      end
    end)

    it("must be tables", function()
      local bg = env.client.billing_groups
      refused_with("request options: extra_body must be a table, got string", bg.create, bg, {}, { extra_body = "x" })
      refused_with("request options: extra_query must be a table, got number", bg.retrieve, bg, "id", { extra_query = 5 })
    end)
  end)
end)

describe("the checker on entries of the full table's format", function()
  local check = require "telnyx.check"
  check.null = telnyx.null -- as src/resource.c sets it when it loads the checker

  local op = {
    resource = "things", method = "create", http_method = "POST", path = "/things/{group_id}/items",
    path_params = { "group_id", "other_id" }, positional = "group_id",
    headers = { { name = "Idempotency-Key", type = "string", required = false } },
    query = { { name = "dry_run", type = "boolean" } },
    body = {
      content_type = "application/json", type = "object", required = { "country", "settings" },
      fields = {
        { name = "country", type = "string", pattern = "^[A-Z]{2}$" },
        { name = "phone", type = "string", pattern = "^\\+\\d{7,15}$" },
        { name = "label", type = "string", min_length = 2, max_length = 5 },
        { name = "ratio", type = "number", exclusive_minimum = 0, exclusive_maximum = 1 },
        { name = "old_ratio", type = "number", minimum = 0, exclusive_minimum = true },
        { name = "codes", type = "array", items = { type = "integer", maximum = 9 }, min_items = 1, max_items = 3 },
        { name = "settings", type = "object", fields = {
          { name = "mode", type = "string", enum = { "fast", "safe" } },
          { name = "limits", type = "object", fields = { { name = "max", type = "integer", required = true } } },
        } },
        { name = "metadata", type = "object", additional = true, fields = { { name = "owner", type = "string" } } },
        { name = "lookahead", type = "string", pattern = "^(?!x)" },
        { name = "anything", type = "weird-type" },
      },
    },
  }

  local function err_of(params)
    local ok, err = pcall(check.check, op, params)
    if ok then return nil end
    return one_line(err)
  end
  local function ok(params) assert.is_nil(err_of(params)) end
  local function base(extra)
    local t = { country = "US", settings = {} }
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end

  it("accepts valid values, named path parameters and headers, and unknown type words", function()
    ok(base { phone = "+12125559000", label = "ab", ratio = 0.5, old_ratio = 1, codes = { 1, 2 },
              settings = { mode = "safe", limits = { max = 3 } }, metadata = { owner = "o", free_key = 1 },
              other_id = "x", idempotency_key = "k", ["Idempotency-Key"] = "k", dry_run = true,
              anything = { 1, "x" }, lookahead = "xyz" })
  end)

  it("patterns, lengths (in characters), array sizes and exclusive bounds", function()
    assert.are.equal("things:create: country must match the pattern ^[A-Z]{2}$", err_of(base { country = "USA" }))
    assert.are.equal("things:create: phone must match the pattern ^\\+\\d{7,15}$", err_of(base { phone = "12125559000" }))
    assert.are.equal("things:create: label must be at least 2 characters long, got 1", err_of(base { label = "a" }))
    assert.are.equal("things:create: label must be at most 5 characters long, got 6", err_of(base { label = "abcdef" }))
    ok(base { label = "ééééé" }) -- 5 characters, 10 bytes
    assert.are.equal("things:create: ratio must be greater than 0, got 0", err_of(base { ratio = 0 }))
    assert.are.equal("things:create: ratio must be less than 1, got 1", err_of(base { ratio = 1 }))
    assert.are.equal("things:create: old_ratio must be greater than 0, got 0", err_of(base { old_ratio = 0 }))
    assert.are.equal("things:create: codes must have at most 3 items, got 4", err_of(base { codes = { 1, 2, 3, 4 } }))
    assert.are.equal("things:create: codes must have at least 1 item, got 0", err_of(base { codes = {} }))
    assert.are.equal("things:create: codes[2] must be at most 9, got 10", err_of(base { codes = { 1, 10 } }))
  end)

  it("nested fields: unknown keys, types, enums and required ones; additional takes any key", function()
    assert.are.equal("things:create: unknown field 'settings.mdoe' (did you mean mode?)",
      err_of(base { settings = { mdoe = "fast" } }))
    assert.are.equal("things:create: settings.mode must be one of fast, safe; got 'quick'",
      err_of(base { settings = { mode = "quick" } }))
    assert.are.equal("things:create: missing required field 'settings.limits.max'",
      err_of(base { settings = { limits = {} } }))
    assert.are.equal("things:create: settings.limits.max must be an integer, got a string",
      err_of(base { settings = { limits = { max = "3" } } }))
    assert.are.equal("things:create: metadata.owner must be a string, got an integer",
      err_of(base { metadata = { owner = 5 } }))
    assert.are.equal("things:create: missing required field 'settings'", err_of { country = "US" })
    assert.are.equal("things:create: unknown parameter 'contry' (did you mean country?)", err_of(base { contry = "US" }))
  end)

  it("a pattern outside the translated subset is not checked, and is recorded", function()
    ok(base { lookahead = "x" })
    assert.is_true(check.unchecked_patterns["^(?!x)"])
  end)

  it("translates every pattern of the vendored spec, with ECMAScript's answers", function()
    local f = assert(io.open("scripts/build/telnyx-openapi-spec3.json", "rb"))
    local spec = telnyx.json.decode(f:read("a"))
    f:close()
    local patterns, untranslated = {}, {}
    local function walk(x)
      for k, v in pairs(x) do
        if k == "pattern" and type(v) == "string" then
          patterns[v] = true
        elseif type(v) == "table" then
          walk(v)
        end
      end
    end
    walk(spec)
    for p in pairs(patterns) do
      if not check.compile(p) then untranslated[#untranslated + 1] = p end
    end
    assert.are.same({}, untranslated)
    local cases = {
      { "^[A-Z]{2}$", { "US", "GB" }, { "us", "USA", "U", "" } },
      { "^\\+\\d{7,15}$", { "+1234567", "+123456789012345" }, { "+123456", "+1234567890123456", "1234567", "+12a4567" } },
      { "^[A-Za-z0-9 -]{1,30}$", { "My Name-1" }, { "", "bad_name", string.rep("a", 31) } },
      { "^wss?://", { "ws://x", "wss://x/y" }, { "http://x", " ws://x" } },
      { "^[0-9]+(?:\\.[0-9]+)?$", { "1", "1.25" }, { "1.", ".5", "1.2.3" } },
      { "^([Aa]uto|[a-z]{2,3}(-[A-Za-z0-9]{2,8})*)$", { "auto", "Auto", "en", "en-US", "zh-Hant-TW" },
        { "AUTO", "e", "en-", "en-U" } },
      { "^[-/_=.a-zA-Z0-9]+$", { "a-b/c_d=e.f" }, { "a b", "" } },
      { "^[0-9]{5}(?:-[0-9]{4})?$", { "78701", "78701-1234" }, { "7870", "78701-12" } },
      { "^[0-9A-D*#wW]*$", { "", "12AB*#w" }, { "E", "x" } },
      { "^C[A-Z0-9]{5,8}$", { "CABCDE", "C12345678" }, { "CABCD", "C123456789", "cABCDE" } },
    }
    for _, c in ipairs(cases) do
      for _, s in ipairs(c[2]) do assert.is_true(check.pattern_matches(c[1], s), c[1] .. " on " .. s) end
      for _, s in ipairs(c[3]) do assert.is_false(check.pattern_matches(c[1], s), c[1] .. " on " .. s) end
    end
  end)

  it("suggests by Damerau-Levenshtein distance 2 or a common prefix, else nothing", function()
    local names = { "ip_address", "ip_source", "created_at" }
    assert.are.equal("ip_address", check.suggest("ip_adress", names))
    assert.are.equal("ip_address", check.suggest("ip_addrses", names)) -- a transposition
    assert.are.equal("created_at", check.suggest("created", names))
    assert.is_nil(check.suggest("zzz", names))
  end)
end)

describe("the checker on a query parameter of type object (deepObject with fields)", function()
  local check = require "telnyx.check"
  local op = {
    resource = "things", method = "list", http_method = "GET", path = "/things", pagination = "DefaultFlatPagination",
    query = {
      { name = "filter", type = "object", fields = {
        { name = "ip_address", type = "string" },
        { name = "created_at", type = "string|object", fields = { { name = "gt", type = "string" } } },
      } },
      { name = "page", type = "object", fields = { { name = "size", type = "integer", maximum = 250 } } },
      { name = "tags", type = "array", items = { type = "string" } },
    },
  }
  local function err_of(params)
    local ok, err = pcall(check.check, op, params)
    return not ok and err or nil
  end

  it("checks its keys nested or flat, naming them as wire names", function()
    assert.is_nil(err_of { filter = { ip_address = "x", created_at = { gt = "2020" } }, page = { size = 5 },
                           ["filter[created_at]"] = "2020", ["filter[created_at][gt]"] = "2020", tags = { "a" } })
    assert.are.equal("things:list: unknown query parameter 'filter[ip_adress]' (did you mean ip_address?)",
      err_of { filter = { ip_adress = "x" } })
    assert.are.equal("things:list: unknown query parameter 'filter[ip_adress]' (did you mean ip_address?)",
      err_of { ["filter[ip_adress]"] = "x" })
    assert.are.equal("things:list: unknown query parameter 'filter[created_at][gte]' (did you mean gt?)",
      err_of { filter = { created_at = { gte = "x" } } })
    assert.are.equal("things:list: page[size] must be at most 250, got 300", err_of { ["page[size]"] = 300 })
    assert.are.equal("things:list: page[size] must be at most 250, got 300", err_of { page = { size = 300 } })
    assert.are.equal("things:list: unknown query parameter 'sort' (this list takes no sort)", err_of { sort = "x" })
  end)
end)
