-- Specs of scripts/mock-server.lua, through luasocket only (never the telnyx module).
-- Run: busted spec/mock_server_spec.lua   (or busted --lua=build/telnyx-lua ...)

local mock = require "spec.support.mock"
local socket = require "socket"

local json = mock.json
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"

local function b64url_decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local bits = s:gsub(".", function(c)
    local v = alphabet:find(c, 1, true) - 1
    local out = {}
    for i = 5, 0, -1 do out[#out + 1] = (v >> i) & 1 end
    return table.concat(out)
  end)
  bits = bits:sub(1, #bits - #bits % 8)   -- drop the padding bits of the last character
  return (bits:gsub("%d%d%d%d%d%d%d%d", function(byte) return string.char(tonumber(byte, 2)) end))
end

describe("mock server", function()
  local m

  setup(function() m = mock.start{seed = 7} end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  local function api(method, path, body, opts)
    opts = opts or {}
    opts.body = body
    return m:request(method, path, opts)
  end

  local function assert_api_error(status, body, want_status)
    assert.are.equal(want_status, status)
    assert.is_table(body)
    assert.is_table(body.errors)
    local e = body.errors[1]
    assert.is_table(e)
    assert.is_not_nil(e.code)
    assert.is_string(e.title)
    assert.is_string(e.detail)
    return e
  end

  describe("startup", function()
    it("prints the listening line with a free port", function()
      assert.matches("^http://127%.0%.0%.1:%d+/v2$", m.url)
      assert.is_true(m.port > 0)
      assert.is_number(m.pid)
    end)

    it("stops on SIGINT (the interpreter's interrupt) and on stop(), idempotently", function()
      local other = mock.start{interpreter = "lua5.4"}
      os.execute("kill -INT " .. other.pid)
      local deadline = socket.gettime() + 2
      local gone = false
      repeat
        local f = io.open("/proc/" .. other.pid .. "/stat")
        local line = f and f:read("l")
        if f then f:close() end
        gone = line == nil or line:match("^%d+ %b() (%a)") == "Z"
        if not gone then socket.sleep(0.02) end
      until gone or socket.gettime() > deadline
      assert.is_true(gone)
      assert.are.equal("", other:stderr())
      assert.is_true(other:stop())
      assert.is_true(other:stop())
    end)
  end)

  describe("auth and routing", function()
    it("answers 401 in the API error shape without a bearer token", function()
      local status, body = api("GET", "/access_ip_address", nil, {auth = false})
      local e = assert_api_error(status, body, 401)
      assert.are.equal("10009", e.code)
      assert.are.equal("Authentication failed", e.title)
      status, body = api("GET", "/access_ip_address", nil, {headers = {authorization = "Bearer "}})
      assert_api_error(status, body, 401)
    end)

    it("answers 404 for unknown paths and ids, 405 for a wrong method", function()
      local status, body = api("GET", "/no_such_thing")
      assert.are.equal("10005", assert_api_error(status, body, 404).code)
      status, body = api("GET", "/access_ip_address/00000000-0000-4000-8000-000000000000")
      assert_api_error(status, body, 404)
      local _, _, _, headers
      status, body, _, headers = api("PUT", "/billing_groups")
      assert_api_error(status, body, 405)
      assert.are.equal("GET, POST", headers.allow)
    end)

    it("types error codes as the spec does (billing-group errors use integers)", function()
      local status, body = api("GET", "/billing_groups/nope")
      assert.are.equal(10005, assert_api_error(status, body, 404).code)
    end)

    it("sends a unique x-request-id on every response", function()
      local seen = {}
      for _ = 1, 5 do
        local _, _, _, headers = api("GET", "/billing_groups")
        assert.matches(UUID, headers["x-request-id"])
        assert.is_nil(seen[headers["x-request-id"]])
        seen[headers["x-request-id"]] = true
      end
    end)
  end)

  describe("access_ip_address", function()
    it("creates, retrieves, lists and deletes; answers are not wrapped in data", function()
      local status, created = api("POST", "/access_ip_address",
        {ip_address = "203.0.113.7", description = "office"})
      assert.are.equal(200, status)
      assert.is_nil(created.data)
      assert.matches(UUID, created.id)
      assert.are.equal("203.0.113.7", created.ip_address)
      assert.are.equal("office", created.description)
      assert.are.equal("pending", created.status)
      assert.matches(ISO, created.created_at)
      assert.is_string(created.user_id)
      assert.is_string(created.source)

      local got
      status, got = api("GET", "/access_ip_address/" .. created.id)
      assert.are.equal(200, status)
      assert.are.equal(created.id, got.id)
      assert.are.equal("added", got.status)

      local list
      status, list = api("GET", "/access_ip_address")
      assert.are.equal(200, status)
      assert.are.equal(1, #list.data)
      assert.are.equal(created.id, list.data[1].id)
      assert.are.same({page_number = 1, page_size = 20, total_pages = 1, total_results = 1}, list.meta)

      local deleted
      status, deleted = api("DELETE", "/access_ip_address/" .. created.id)
      assert.are.equal(200, status)
      assert.are.equal(created.id, deleted.id)
      status = api("GET", "/access_ip_address/" .. created.id)
      assert.are.equal(404, status)
      status = api("DELETE", "/access_ip_address/" .. created.id)
      assert.are.equal(404, status)
    end)

    it("answers 422 with a source pointer for a missing required field", function()
      local status, body = api("POST", "/access_ip_address", {})
      local e = assert_api_error(status, body, 422)
      assert.are.same({pointer = "/ip_address"}, e.source)
      status, body = api("POST", "/access_ip_address", {ip_address = 7})
      assert.are.same({pointer = "/ip_address"}, assert_api_error(status, body, 422).source)
    end)

    it("answers 422 for a duplicate or malformed address", function()
      assert.are.equal(200, (api("POST", "/access_ip_address", {ip_address = "198.51.100.1"})))
      local status, body = api("POST", "/access_ip_address", {ip_address = "198.51.100.1"})
      assert.are.same({pointer = "/ip_address"}, assert_api_error(status, body, 422).source)
      status, body = api("POST", "/access_ip_address", {ip_address = "not-an-ip"})
      assert_api_error(status, body, 422)
      assert.are.equal(200, (api("POST", "/access_ip_address", {ip_address = "2001:db8::1"})))
    end)

    it("answers 400 for a body that is not JSON", function()
      local status, body = api("POST", "/access_ip_address", "{oops")
      assert_api_error(status, body, 400)
    end)
  end)

  describe("billing_groups", function()
    it("creates, updates, lists and deletes; answers are wrapped in data", function()
      local status, created = api("POST", "/billing_groups", {name = "first"})
      assert.are.equal(200, status)
      local bg = created.data
      assert.are.equal("billing_group", bg.record_type)
      assert.are.equal("first", bg.name)
      assert.matches(UUID, bg.id)
      assert.are.equal(json.null, bg.deleted_at)

      socket.sleep(0.002)
      local updated
      status, updated = api("PATCH", "/billing_groups/" .. bg.id, {name = "second"})
      assert.are.equal(200, status)
      assert.are.equal("second", updated.data.name)
      assert.are.equal(bg.created_at, updated.data.created_at)
      assert.are_not.equal(bg.updated_at, updated.data.updated_at)

      local list
      status, list = api("GET", "/billing_groups")
      assert.are.equal(200, status)
      assert.are.equal("second", list.data[1].name)

      status = api("DELETE", "/billing_groups/" .. bg.id)
      assert.are.equal(200, status)
      status = api("GET", "/billing_groups/" .. bg.id)
      assert.are.equal(404, status)
    end)
  end)

  describe("lists", function()
    it("pages with real meta numbers and an empty page past the end", function()
      m:seed("access_ip_address", 45)
      local status, body = api("GET", "/access_ip_address?page%5Bnumber%5D=3&page%5Bsize%5D=20")
      assert.are.equal(200, status)
      assert.are.equal(5, #body.data)
      assert.are.same({page_number = 3, page_size = 20, total_pages = 3, total_results = 45}, body.meta)
      status, body = api("GET", "/access_ip_address?page[number]=4&page[size]=20")
      assert.are.equal(200, status)
      assert.are.equal("[]", (select(3, api("GET", "/access_ip_address?page[number]=4")))
        :match('"data":(%[%])'))
      assert.are.equal(0, #body.data)
      assert.are.equal(4, body.meta.page_number)
      assert.are.equal(45, body.meta.total_results)
    end)

    it("uses each endpoint's default page size from the spec", function()
      m:seed("telephony_credentials", 60)
      local _, body = api("GET", "/telephony_credentials")
      assert.are.equal(50, body.meta.page_size)
      assert.are.equal(50, #body.data)
    end)

    it("answers 422 for page[size] over 250 or under 1", function()
      for _, size in ipairs{"251", "0", "abc"} do
        local status, body = api("GET", "/access_ip_address?page%5Bsize%5D=" .. size)
        assert_api_error(status, body, 422)
      end
      assert.are.equal(200, (api("GET", "/access_ip_address?page%5Bsize%5D=250")))
    end)

    it("filters by the spec's filters, percent-encoded", function()
      m:seed("access_ip_address", 30)
      local status, body = api("GET", "/access_ip_address?filter%5Bip_address%5D=10.0.0.7")
      assert.are.equal(200, status)
      assert.are.equal(1, #body.data)
      assert.are.equal("10.0.0.7", body.data[1].ip_address)

      m:seed("access_ip_ranges", 3)
      api("POST", "/access_ip_ranges", {cidr_block = "192.168.0.0/16"})
      local _
      _, body = api("GET", "/access_ip_ranges?filter%5Bcidr_block%5D%5Bstartswith%5D=192.168")
      assert.are.equal(1, #body.data)
      _, body = api("GET", "/access_ip_ranges?filter[cidr_block][endswith]=/24")
      assert.are.equal(3, #body.data)
      _, body = api("GET", "/access_ip_ranges?filter[cidr_block][contains]=0.2")
      assert.are.equal(1, #body.data)

      local cut = body.data[1].created_at
      _, body = api("GET", "/access_ip_ranges?filter%5Bcreated_at%5D%5Bgt%5D=" .. cut)
      assert.are.equal(2, #body.data)
      status, body = api("GET", "/access_ip_ranges?filter[created_at][gt]=yesterday")
      assert_api_error(status, body, 422)
    end)

    it("sorts by the spec's sort values, descending with a leading -", function()
      for _, name in ipairs{"bravo", "alpha", "charlie"} do
        api("POST", "/credential_connections", {connection_name = name, user_name = name .. "-user",
                                                password = "secret-" .. name})
      end
      local _, body = api("GET", "/credential_connections?sort=connection_name")
      assert.are.same({"alpha", "bravo", "charlie"},
        {body.data[1].connection_name, body.data[2].connection_name, body.data[3].connection_name})
      _, body = api("GET", "/credential_connections?sort=-connection_name")
      assert.are.equal("charlie", body.data[1].connection_name)
      _, body = api("GET", "/credential_connections?sort=-created_at")
      assert.are.equal("charlie", body.data[1].connection_name)
      local status
      status, body = api("GET", "/credential_connections?sort=password")
      assert_api_error(status, body, 422)
    end)

    it("seeds many records quickly, with unique addresses", function()
      local t0 = socket.gettime()
      local answer = m:seed("access_ip_address", 20000)
      assert.are.same({resource = "access_ip_address", created = 20000, total = 20000}, answer)
      assert.is_true(socket.gettime() - t0 < 5)
      local c <close> = m:connect()
      local seen, n = {}, 0
      for page = 1, 80 do
        local resp = assert(c:request("GET", "/v2/access_ip_address?page[size]=250&page[number]=" .. page))
        for _, item in ipairs(resp.json.data) do
          assert.is_nil(seen[item.ip_address])
          seen[item.ip_address] = true
          n = n + 1
        end
      end
      assert.are.equal(20000, n)
    end)
  end)

  describe("other operations", function()
    it("answers 201 for integration secret creation without echoing the secret, 204 for deletion",
      function()
        local status, body, raw = api("POST", "/integration_secrets",
          {identifier = "hook", type = "bearer", token = "s3cr3t-token"})
        assert.are.equal(201, status)
        assert.are.equal("integration_secret", body.data.record_type)
        assert.is_nil(raw:find("s3cr3t", 1, true))
        local id = body.data.id
        status, body = api("POST", "/integration_secrets", {identifier = "hook", type = "oauth"})
        assert_api_error(status, body, 422)

        local c <close> = m:connect()
        local resp = assert(c:request("DELETE", "/v2/integration_secrets/" .. id))
        assert.are.equal(204, resp.status)
        assert.are.equal("", resp.body)
        assert.is_nil(resp.headers["content-length"])
        resp = assert(c:request("GET", "/v2/integration_secrets"))   -- still usable
        assert.are.equal(0, #resp.json.data)
      end)

    it("answers 201 with a text/plain JWT for a telephony credential token", function()
      local status, body = api("POST", "/telephony_credentials", {connection_id = "1234567890"})
      assert.are.equal(201, status)
      local id = body.data.id
      assert.are.equal("connection:1234567890", body.data.resource_id)
      local _, _, token, headers = api("POST", "/telephony_credentials/" .. id .. "/token")
      assert.matches("^text/plain", headers["content-type"])
      local h, p, sig = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
      assert.is_not_nil(sig)
      assert.are.same({alg = "HS256", typ = "JWT"}, json.decode(b64url_decode(h)))
      local payload = json.decode(b64url_decode(p))
      assert.are.equal(id, payload.sub)
      assert.is_true(math.abs(payload.exp - (os.time() + 86400)) < 120)
      status = api("POST", "/telephony_credentials/nope/token")
      assert.are.equal(404, status)
    end)

    it("keeps empty arrays as [] and echoes only what the response schema has", function()
      local _, body, raw = api("POST", "/credential_connections",
        {connection_name = "c", user_name = "u", password = "pw", tags = {}, inbound = {codecs = {}}})
      assert.is_truthy(raw:find('"tags":[]', 1, true))
      assert.is_truthy(raw:find('"codecs":[]', 1, true))
      assert.are.equal("credential_connection", body.data.record_type)
      assert.matches("^%d+$", body.data.id)
    end)

    it("serves the address and connection actions", function()
      local status, body = api("POST", "/addresses/actions/validate",
        {country_code = "us", street_address = "600 Congress Avenue", postal_code = "78701"})
      assert.are.equal(200, status)
      assert.are.equal("valid", body.data.result)
      local _, addr = api("POST", "/addresses", {first_name = "A", last_name = "B", business_name = "C",
        street_address = "1 Main St", locality = "Austin", country_code = "US"})
      status = api("POST", "/addresses/" .. addr.data.id .. "/actions/accept_suggestions")
      assert.are.equal(202, status)
      status = api("POST", "/addresses/" .. addr.data.id .. "/actions/accept_suggestions")
      assert.are.equal(200, status)
      local _, conn = api("POST", "/credential_connections",
        {connection_name = "c", user_name = "u", password = "pw"})
      status, body = api("POST", "/credential_connections/" .. conn.data.id
        .. "/actions/check_registration_status")
      assert.are.equal(200, status)
      assert.are.equal("registration_status", body.data.record_type)
    end)

    it("makes the same ids from the same seed", function()
      m:reset(99)
      local _, a = api("POST", "/billing_groups", {name = "x"})
      m:reset(99)
      local _, b = api("POST", "/billing_groups", {name = "x"})
      assert.are.equal(a.data.id, b.data.id)
    end)
  end)

  describe("faults", function()
    local function fault_then_get(rule, timeout)
      m:fault(rule)
      local c = m:connect(timeout or 5)
      local resp, err, partial = c:request("GET", "/v2/billing_groups")
      c:close()
      return resp, err, partial
    end

    it("respond: status, headers, body; count and skip", function()
      m:fault{path = "/v2/billing_groups", status = 429, count = 2, skip = 1,
              headers = {["retry-after"] = "1", ["x-should-retry"] = "false"}}
      local codes = {}
      local retry_after
      for i = 1, 4 do
        local status, body, _, headers = api("GET", "/billing_groups")
        codes[i] = status
        if status == 429 then
          retry_after = headers["retry-after"]
          assert.are.equal("false", headers["x-should-retry"])
          assert_api_error(status, body, 429)
        end
      end
      assert.are.same({200, 429, 429, 200}, codes)
      assert.are.equal("1", retry_after)
      assert.are.equal(4, #m:requests())
      assert.are.same({}, m:faults())
    end)

    it("respond: matches method and a Lua pattern path; -1 lasts until cleared", function()
      m:fault{method = "post", path = "^/v2/access_ip_%a+$", status = 503, count = -1,
              body = "overloaded", content_type = "text/plain"}
      local status, _, raw, headers = api("POST", "/access_ip_ranges", {cidr_block = "10.0.0.0/8"})
      assert.are.equal(503, status)
      assert.are.equal("overloaded", raw)
      assert.matches("^text/plain", headers["content-type"])
      assert.are.equal(503, (api("POST", "/access_ip_address", {ip_address = "10.0.0.1"})))
      assert.are.equal(200, (api("GET", "/access_ip_address")))
      assert.are.equal(2, m:faults()[1].hits)
      m:clear_faults()
      assert.are.equal(200, (api("POST", "/access_ip_address", {ip_address = "10.0.0.1"})))
    end)

    it("respond: a Connection: close header in the rule closes the connection", function()
      m:fault{status = 200, body = {}, headers = {Connection = "close"}}
      local c <close> = m:connect()
      local resp = assert(c:request("GET", "/v2/anything"))
      assert.are.equal(200, resp.status)
      assert.are.equal("{}", resp.body)
      assert.are.equal("close", resp.headers.connection)
      assert.is_nil(c.sock:receive(1))
    end)

    it("hang: no answer until the client gives up", function()
      local t0 = socket.gettime()
      local resp, err = fault_then_get({action = "hang"}, 0.3)
      assert.is_nil(resp)
      assert.are.equal("timeout", err)
      assert.is_true(socket.gettime() - t0 >= 0.29)
      local log = m:requests()
      assert.are.equal(json.null, log[1].status)
      assert.are.equal("hang", log[1].fault)
      -- Once the client has given up, the request is no longer in flight.
      local deadline = socket.gettime() + 2
      while m:stats().in_flight > 0 and socket.gettime() < deadline do socket.sleep(0.01) end
      assert.are.equal(0, m:stats().in_flight)
    end)

    it("close and reset: the connection ends without an answer", function()
      local resp, err = fault_then_get{action = "close"}
      assert.is_nil(resp)
      assert.are.equal("closed", err)
      resp, err = fault_then_get{action = "reset"}
      assert.is_nil(resp)
      assert.is_truthy(err == "closed" or err:find("reset", 1, true))
    end)

    it("close_mid_body and truncated_chunked: a body cut short", function()
      local resp, err, partial = fault_then_get{action = "close_mid_body"}
      assert.is_nil(resp)
      assert.are.equal("closed", err)
      assert.is_true(#partial > 0)
      resp, err = fault_then_get{action = "truncated_chunked"}
      assert.is_nil(resp)
      assert.are.equal("closed", err)
    end)

    it("bad_json, invalid_utf8, deep_json, huge_body: 200 with a body that hurts", function()
      local resp = assert(fault_then_get{action = "bad_json"})
      assert.are.equal(200, resp.status)
      assert.matches("^application/json", resp.headers["content-type"])
      assert.is_false((pcall(json.decode, resp.body)))
      resp = assert(fault_then_get{action = "invalid_utf8"})
      assert.is_truthy(resp.body:find("\255", 1, true))
      resp = assert(fault_then_get{action = "deep_json"})
      assert.are.equal(string.rep("[", 100000), resp.body:sub(1, 100000))
      resp = assert(fault_then_get{action = "huge_body"})
      assert.is_true(#resp.body >= 10 * 1000 * 1000)
    end)

    it("html_502 and headers_only", function()
      local resp = assert(fault_then_get{action = "html_502"})
      assert.are.equal(502, resp.status)
      assert.matches("^text/html", resp.headers["content-type"])
      assert.matches("<html>", resp.body)
      resp = assert(fault_then_get{action = "headers_only", status = 500})
      assert.are.equal(500, resp.status)
      assert.are.equal("0", resp.headers["content-length"])
      assert.are.equal("", resp.body)
    end)

    it("rejects a malformed rule", function()
      assert.has_error(function() m:fault{action = "explode"} end)
      assert.has_error(function() m:fault{path = "^[("} end)
    end)
  end)

  describe("control API", function()
    it("logs API requests in order with decoded query parameters", function()
      api("POST", "/access_ip_address?x=1", {ip_address = "192.0.2.1"})
      api("GET", "/access_ip_address?filter%5Bip_address%5D=192.0.2.1&page%5Bsize%5D=5")
      local log = m:requests()
      assert.are.equal(2, #log)
      local first, second = log[1], log[2]
      assert.are.equal("POST", first.method)
      assert.are.equal("/v2/access_ip_address", first.path)
      assert.are.equal("x=1", first.query)
      assert.are.same({ip_address = "192.0.2.1"}, json.decode(first.body))
      assert.are.equal(200, first.status)
      assert.is_true(first.t_end_ms >= first.t_start_ms)
      assert.is_true(first.t_answered_ms >= first.t_arrived_ms)
      assert.are.equal(json.null, first.t_due_ms) -- no latency
      assert.are.equal("Bearer test-api-key", first.headers.authorization)
      assert.is_number(first.conn)
      assert.are.equal(first.seq + 1, second.seq)
      assert.are.same({["filter[ip_address]"] = "192.0.2.1", ["page[size]"] = "5"}, second.query_params)
      assert.are.equal(1, #m:requests(first.seq))
      m:clear_requests()
      assert.are.same({}, m:requests())
    end)

    it("delays responses by the latency, concurrently: peak_in_flight shows the client's concurrency",
      function()
        m:latency(200)
        m:clear_stats()
        local conns = {}
        for i = 1, 8 do conns[i] = m:connect() end
        local t0 = socket.gettime()
        for _, c in ipairs(conns) do assert(c:send_request("GET", "/v2/billing_groups")) end
        for _, c in ipairs(conns) do
          local resp = assert(c:read_response())
          assert.are.equal(200, resp.status)
        end
        local elapsed = socket.gettime() - t0
        for _, c in ipairs(conns) do c:close() end
        assert.is_true(elapsed >= 0.19)
        assert.is_true(elapsed < 0.8, "8 requests took " .. elapsed .. " s")
        local stats = m:stats()
        assert.are.equal(8, stats.peak_in_flight)
        assert.are.equal(8, stats.requests)
        assert.are.equal(8, stats.connections_opened)
        m:latency(0)
      end)

    it("carries a request out when it arrives and answers once the latency has passed", function()
      m:latency(300)
      local creator, reader = m:connect(), m:connect()
      local t0 = socket.gettime()
      assert(creator:send_request("POST", "/v2/access_ip_address",
                                  {body = {ip_address = "192.0.2.201"}}))
      socket.sleep(0.1) -- the create has arrived; its answer is not due yet
      m:latency(0)      -- so a later request is answered first
      local listed = assert(reader:request("GET", "/v2/access_ip_address?filter[ip_address]=192.0.2.201"))
      local created = assert(creator:read_response())
      local created_after = socket.gettime() - t0
      creator:close()
      reader:close()
      assert.are.equal(1, #listed.json.data, "the create was not carried out on arrival")
      assert.are.equal(200, created.status)
      assert.is_true(created_after >= 0.29 and created_after < 0.39,
                     "the create took " .. created_after .. " s at latency 300 ms")
      -- The log tells when it arrived, fell due and was answered (to 0.1 ms).
      local entry = m:requests()[1]
      assert.are.equal("POST", entry.method)
      assert.is_true(math.abs(entry.t_due_ms - entry.t_arrived_ms - 300) <= 0.2)
      assert.is_true(entry.t_answered_ms >= entry.t_due_ms - 0.1)
      assert.is_true(entry.t_answered_ms < entry.t_due_ms + 50)
    end)

    it("counts the latency of each request of a burst from the burst's arrival", function()
      m:seed("access_ip_address", 4000) -- so a filter costs the mock a few milliseconds
      m:latency(300)
      local busy = m:connect()
      local conns = {}
      for i = 1, 32 do conns[i] = m:connect() end
      socket.sleep(0.05) -- every connection accepted and waiting, as kept-alive ones are
      -- Seeding 5,000 records keeps the mock busy while the whole burst arrives.
      assert(busy:send_request("POST", "/__mock/seed", {body = {resource = "billing_groups", count = 5000}}))
      socket.sleep(0.005)
      for _, c in ipairs(conns) do
        assert(c:send_request("GET", "/v2/access_ip_address?filter[ip_address]=198.51.100.1"))
      end
      assert.are.equal(200, assert(busy:read_response()).status)
      -- The last request is the last the mock gets round to: its answer comes with the first's,
      -- not 31 filterings later.
      assert.are.equal(200, assert(conns[1]:read_response()).status)
      local first = socket.gettime()
      assert.are.equal(200, assert(conns[#conns]:read_response()).status)
      local spread = socket.gettime() - first
      for i = 2, #conns - 1 do assert.are.equal(200, assert(conns[i]:read_response()).status) end
      busy:close()
      for _, c in ipairs(conns) do c:close() end
      m:latency(0)
      assert.is_true(spread < 0.015, "the last answer of the burst came " .. spread .. " s after the first")
    end)

    it("times a request from its arrival while the mock is busy rendering long pages", function()
      m:seed("access_ip_address", 8000) -- records never read yet: each page is encoded afresh
      m:latency(200)
      local busy, quick, pages = m:connect(), m:connect(), {}
      for i = 1, 32 do pages[i] = m:connect() end
      socket.sleep(0.05) -- every connection accepted and waiting, as kept-alive ones are
      -- While a seed keeps the mock busy, the 32 page requests arrive: its next look at the
      -- sockets finds them all, and rendering them takes it tens of milliseconds.
      assert(busy:send_request("POST", "/__mock/seed", {body = {resource = "billing_groups", count = 5000}}))
      socket.sleep(0.005)
      for i, c in ipairs(pages) do
        assert(c:send_request("GET", "/v2/access_ip_address?page[size]=250&page[number]=" .. i))
      end
      assert.are.equal(200, assert(busy:read_response()).status)
      socket.sleep(0.002) -- the mock is into the pages now
      local sent = socket.gettime()
      assert(quick:send_request("GET", "/v2/access_ip_ranges"))
      assert.are.equal(200, assert(quick:read_response()).status)
      local took = socket.gettime() - sent
      for _, c in ipairs(pages) do assert.are.equal(200, assert(c:read_response()).status) end
      busy:close()
      quick:close()
      for _, c in ipairs(pages) do c:close() end
      m:latency(0)
      -- Timed from when the mock got round to it, the quick request would also wait out the
      -- rendering of the pages ahead of it (tens of milliseconds). Its answer can still be held
      -- up a little by the pages' answers, which fall due just before it: the log tells when
      -- the mock took it to have arrived, and that must be before the mock began the last page
      -- (a bound in milliseconds would depend on how fast the machine is at the time).
      local arrived_ms, last_page_ms = nil, 0
      for _, e in ipairs(m:requests()) do
        if e.path == "/v2/access_ip_ranges" then arrived_ms = e.t_arrived_ms end
        if e.path == "/v2/access_ip_address" then last_page_ms = math.max(last_page_ms, e.t_start_ms) end
      end
      assert.is_true(arrived_ms < last_page_ms, ("timed from %.1f ms after it was sent, %.1f ms after the "
        .. "mock began the last page"):format(arrived_ms - sent * 1000, arrived_ms - last_page_ms))
      assert.is_true(took < 0.25, "the quick answer took " .. took .. " s at latency 200 ms")
      assert.is_true(took > 0.199, "the quick answer came early: " .. took .. " s")
    end)

    it("logs each request's own headers when clients repeat a header block", function()
      local c <close> = m:connect()
      local sends = {
        {["X-Tag"] = "one"}, {["X-Tag"] = "one"}, {["X-Tag"] = "two", ["x-tag"] = "three"}, {},
      }
      for _, headers in ipairs(sends) do
        assert.are.equal(200, assert(c:request("GET", "/v2/billing_groups", {headers = headers})).status)
      end
      local log = m:requests()
      assert.are.equal(4, #log)
      assert.are.equal("one", log[1].headers["x-tag"])
      assert.are.equal("one", log[2].headers["x-tag"])
      local joined = log[3].headers["x-tag"]
      assert.is_true(joined == "two, three" or joined == "three, two", joined)
      assert.is_nil(log[4].headers["x-tag"])
      assert.are.equal("Bearer test-api-key", log[4].headers.authorization)
    end)

    it("answers delayed requests in deadline order, not in the order they came", function()
      local delays = {billing_groups = 300, access_ip_ranges = 200, access_ip_address = 100}
      for name, ms in pairs(delays) do
        m:fault{method = "GET", path = "/v2/" .. name, delay_ms = ms, status = 200, body = {}}
      end
      local conns = {}
      for _, name in ipairs{"billing_groups", "access_ip_ranges", "access_ip_address"} do
        local c = m:connect()
        assert(c:send_request("GET", "/v2/" .. name))
        conns[name] = c
      end
      -- Shortest delay first; when one answer is in, the later ones are not yet.
      local expected = {"access_ip_address", "access_ip_ranges", "billing_groups"}
      for i, name in ipairs(expected) do
        local resp = assert(conns[name]:read_response())
        assert.are.equal(200, resp.status)
        for j = i + 1, #expected do
          local readable = socket.select({conns[expected[j]].sock}, nil, 0)
          assert.are.equal(0, #readable, expected[j] .. " answered before " .. name)
        end
      end
      for _, c in pairs(conns) do c:close() end
    end)

    it("keeps a connection alive across many requests", function()
      m:clear_stats()
      local c <close> = m:connect()
      for _ = 1, 50 do
        local resp = assert(c:request("GET", "/v2/billing_groups"))
        assert.are.equal(200, resp.status)
        assert.are.equal("keep-alive", resp.headers.connection)
      end
      local stats = m:stats()
      assert.are.equal(1, stats.connections_opened)
      assert.are.equal(50, stats.requests)
      local resp = assert(c:request("GET", "/v2/billing_groups", {headers = {Connection = "close"}}))
      assert.are.equal("close", resp.headers.connection)
      assert.is_nil(c.sock:receive(1))
    end)

    it("answers 400 to a malformed request and keeps serving", function()
      local c <close> = m:connect()
      c.sock:send("THIS IS NOT HTTP\r\n\r\n")
      local resp = assert(c:read_response())
      assert.are.equal(400, resp.status)
      assert.are.equal(200, (api("GET", "/billing_groups")))
    end)

    it("reads chunked bodies and answers Expect: 100-continue", function()
      local c <close> = m:connect()
      local body = '{"ip_address":"203.0.113.99"}'
      c.sock:send("POST /v2/access_ip_address HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        .. "Transfer-Encoding: chunked\r\n\r\n" .. string.format("%x\r\n%s\r\n0\r\n\r\n", #body, body))
      local resp = assert(c:read_response())
      assert.are.equal(200, resp.status)
      c.sock:send("POST /v2/access_ip_address HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
        .. "Expect: 100-continue\r\nContent-Length: 29\r\n\r\n")
      local interim = assert(c:read_response())
      assert.are.equal(100, interim.status)
      c.sock:send('{"ip_address":"203.0.113.98"}')
      resp = assert(c:read_response())
      assert.are.equal(200, resp.status)
    end)
  end)
end)
