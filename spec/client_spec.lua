-- The client core against the mock API: retries and their waits, response kinds, the headers
-- every request carries, connection reuse, secrets kept out of sight, and bad input refused
-- before anything is sent. Every claim is checked on what the mock received (m:requests()).
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

local PATH = "/v2/billing_groups"

local function escape(s) return (s:gsub("%p", "%%%0")) end

describe("client core", function()
  local m

  setup(function() m = mock.start { seed = 11 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  -- A GET of the billing group list that is expected to fail; returns the error.
  local function failing_get(client, opts)
    return H.failure(client.request, client, "GET", "/billing_groups", opts)
  end

  describe("retries", function()
    for _, status in ipairs { 408, 409, 429, 500, 503 } do
      it(("retries a %d up to max_retries: 3 attempts by default"):format(status), function()
        m:fault { path = PATH, status = status, count = -1, headers = H.RETRY_NOW }
        local err = failing_get(H.client(m))
        assert.are.equal(status, err.status)
        assert.are.equal(3, #H.requests(m, PATH))
      end)
    end

    it("returns the answer of the attempt that succeeds after two 503s", function()
      m:fault { path = PATH, status = 503, count = 2, headers = H.RETRY_NOW }
      local c = H.client(m)
      local created = c.billing_groups:create { name = "after-retries" }
      local reqs = H.requests(m, PATH)
      assert.are.equal(3, #reqs)
      assert.are.same({ 503, 503 }, { reqs[1].status, reqs[2].status })
      assert.is_true(reqs[3].status >= 200 and reqs[3].status < 300, "third answer " .. reqs[3].status)
      assert.are.equal("after-retries", created.data.name)
      -- the same body went out on every attempt
      assert.are.equal(reqs[1].body, reqs[3].body)
    end)

    it("does not retry a 400", function()
      m:fault { path = PATH, status = 400, count = -1, headers = H.RETRY_NOW }
      local err = failing_get(H.client(m))
      assert.are.equal("BadRequestError", err.type)
      assert.are.equal(1, #H.requests(m, PATH))
    end)

    it("does not retry a 404", function()
      local c = H.client(m)
      local err = H.failure(c.billing_groups.retrieve, c.billing_groups, "no-such-id")
      assert.are.equal(404, err.status)
      assert.are.equal(1, #H.requests(m, PATH))
    end)

    it("does not retry a 422", function()
      local c = H.client(m)
      local err = H.failure(c.access_ip_address.create, c.access_ip_address, { ip_address = "not-an-ip" })
      assert.are.equal(422, err.status)
      assert.are.equal(1, #H.requests(m, "/v2/access_ip_address"))
    end)

    it("retries when the server closes the connection without answering", function()
      local c = H.client(m)
      H.drop_idle_connection(m, c)
      m:fault { path = PATH, action = "close", count = 2 }
      local body = c:request("GET", "/billing_groups")
      assert.is_table(body.data)
      local reqs = H.requests(m, PATH)
      assert.are.equal(3, #reqs)
      assert.are.equal("close", reqs[1].fault)
      assert.are.equal("close", reqs[2].fault)
      assert.are.equal(200, reqs[3].status)
      local _, nconn = H.connections(reqs)
      assert.are.equal(3, nconn) -- each attempt on a new connection
    end)

    it("gives up on a connection that keeps closing after max_retries with APIConnectionError", function()
      local c = H.client(m, { max_retries = 1 })
      H.drop_idle_connection(m, c)
      m:fault { path = PATH, action = "close", count = -1 }
      local err = failing_get(c)
      assert.are.equal("APIConnectionError", err.type)
      assert.is_nil(err.status)
      assert.are.equal(2, #H.requests(m, PATH))
    end)

    it("retries a timed-out attempt", function()
      m:fault { path = PATH, action = "hang", count = 1 }
      local c = H.client(m)
      local body = c:request("GET", "/billing_groups", { timeout = 0.3 })
      assert.is_table(body.data)
      local reqs = H.requests(m, PATH)
      assert.are.equal(2, #reqs)
      assert.are.equal("hang", reqs[1].fault)
      assert.are.equal(200, reqs[2].status)
    end)

    it("does not retry a 503 that says x-should-retry: false", function()
      m:fault { path = PATH, status = 503, count = -1,
                headers = { ["x-should-retry"] = "false", ["retry-after-ms"] = "1" } }
      local err = failing_get(H.client(m))
      assert.are.equal("InternalServerError", err.type)
      assert.are.equal(1, #H.requests(m, PATH))
    end)

    it("retries a 400 that says x-should-retry: true", function()
      m:fault { path = PATH, status = 400, count = 1,
                headers = { ["x-should-retry"] = "true", ["retry-after-ms"] = "1" } }
      local body = H.client(m):request("GET", "/billing_groups")
      assert.is_table(body.data)
      local reqs = H.requests(m, PATH)
      assert.are.equal(2, #reqs)
      assert.are.same({ 400, 200 }, { reqs[1].status, reqs[2].status })
    end)

    it("makes one attempt with a per-call max_retries = 0", function()
      m:fault { path = PATH, status = 503, count = -1, headers = H.RETRY_NOW }
      failing_get(H.client(m), { max_retries = 0 })
      assert.are.equal(1, #H.requests(m, PATH))
    end)

    it("honours the client's max_retries", function()
      m:fault { path = PATH, status = 500, count = -1, headers = H.RETRY_NOW }
      failing_get(H.client(m, { max_retries = 1 }))
      assert.are.equal(2, #H.requests(m, PATH))
    end)

    it("lets a per-call max_retries override the client's", function()
      m:fault { path = PATH, status = 500, count = -1, headers = H.RETRY_NOW }
      failing_get(H.client(m, { max_retries = 0 }), { max_retries = 3 })
      assert.are.equal(4, #H.requests(m, PATH))
    end)

    it("passes per-call options through a resource method", function()
      m:fault { path = PATH, status = 503, count = -1, headers = H.RETRY_NOW }
      local c = H.client(m)
      H.failure(c.billing_groups.create, c.billing_groups, { name = "x" }, { max_retries = 0 })
      assert.are.equal(1, #H.requests(m, PATH))
    end)

    describe("waits", function()
      it("honours retry-after-ms: 200 before each retry", function()
        m:fault { path = PATH, status = 503, count = 2, headers = { ["retry-after-ms"] = "200" } }
        H.client(m):request("GET", "/billing_groups")
        local gaps = H.gaps(H.requests(m, PATH))
        assert.are.equal(2, #gaps)
        assert.is_true(gaps[1] >= 190, "first wait " .. gaps[1] .. " ms")
        assert.is_true(gaps[2] >= 190, "second wait " .. gaps[2] .. " ms")
        -- backoff would wait at least 750 ms before the second retry
        assert.is_true(gaps[2] < 700, "second wait " .. gaps[2] .. " ms: backoff, not retry-after-ms")
      end)

      it("honours retry-after: 1 (seconds)", function()
        m:fault { path = PATH, status = 429, count = 1, headers = { ["retry-after"] = "1" } }
        H.client(m):request("GET", "/billing_groups")
        local gaps = H.gaps(H.requests(m, PATH))
        assert.are.equal(1, #gaps)
        assert.is_true(gaps[1] >= 950, "waited " .. gaps[1] .. " ms")
        assert.is_true(gaps[1] < 3000, "waited " .. gaps[1] .. " ms")
      end)

      it("honours retry-after given as an HTTP date", function()
        m:fault { path = PATH, status = 503, count = 1, headers = { ["retry-after"] = H.http_date(2) } }
        H.client(m):request("GET", "/billing_groups")
        local gaps = H.gaps(H.requests(m, PATH))
        assert.are.equal(1, #gaps)
        -- the date has whole seconds: 1 to 2 s away when the answer arrives; backoff is <= 0.5 s
        assert.is_true(gaps[1] >= 900, "waited " .. gaps[1] .. " ms")
        assert.is_true(gaps[1] < 3500, "waited " .. gaps[1] .. " ms")
      end)

      it("ignores a retry-after beyond 60 s and backs off instead", function()
        m:fault { path = PATH, status = 503, count = 1, headers = { ["retry-after"] = "120" } }
        H.client(m):request("GET", "/billing_groups")
        local gaps = H.gaps(H.requests(m, PATH))
        assert.are.equal(1, #gaps)
        assert.is_true(gaps[1] >= 360, "waited " .. gaps[1] .. " ms")
        assert.is_true(gaps[1] < 5000, "waited " .. gaps[1] .. " ms")
      end)

      it("backs off exponentially: about 0.5 s, then about 1 s, less up to 25% jitter", function()
        m:fault { path = PATH, status = 503, count = 2 }
        H.client(m):request("GET", "/billing_groups")
        local gaps = H.gaps(H.requests(m, PATH))
        assert.are.equal(2, #gaps)
        assert.is_true(gaps[1] >= 360 and gaps[1] < 1200, "first wait " .. gaps[1] .. " ms")
        assert.is_true(gaps[2] >= 735 and gaps[2] < 2000, "second wait " .. gaps[2] .. " ms")
        assert.is_true(gaps[2] > gaps[1], "the second wait is the longer")
      end)
    end)
  end)

  describe("responses", function()
    it("returns create_token's text/plain answer as the JWT string", function()
      local c = H.client(m)
      local cred = c.telephony_credentials:create { connection_id = "1234567890" }
      local jwt = c.telephony_credentials:create_token(cred.data.id)
      assert.are.equal("string", type(jwt))
      local head, payload, sig = jwt:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
      assert.is_truthy(sig, "three base64url parts: " .. jwt)
      assert.are.equal("JWT", telnyx.json.decode(H.base64url_decode(head)).typ)
      assert.are.equal(cred.data.id, telnyx.json.decode(H.base64url_decode(payload)).sub)
      local req = H.requests(m, "/v2/telephony_credentials/" .. cred.data.id .. "/token")[1]
      assert.are.equal("POST", req.method)
      assert.are.equal("text/plain", req.headers.accept)
    end)

    it("returns nil for a 204 (integration_secrets:delete)", function()
      local c = H.client(m)
      local secret = c.integration_secrets:create { identifier = "spec", type = "bearer", token = "t0k" }
      local result = table.pack(c.integration_secrets:delete(secret.data.id))
      assert.are.equal(1, result.n)
      assert.is_nil(result[1])
      local reqs = H.requests(m, "/v2/integration_secrets/" .. secret.data.id)
      assert.are.equal("DELETE", reqs[1].method)
      assert.are.equal(204, reqs[1].status)
    end)

    it("returns {status, headers, body} with raw = true", function()
      local c = H.client(m)
      c.billing_groups:create { name = "raw-one" }
      local r = c:request("GET", "/billing_groups", { raw = true })
      assert.are.equal(200, r.status)
      assert.are.equal("string", type(r.body))
      assert.are.equal("application/json", r.headers["content-type"])
      assert.are.equal(tostring(#r.body), r.headers["content-length"])
      assert.are.equal("raw-one", telnyx.json.decode(r.body).data[1].name)
    end)

    it("sends client:request's query and JSON body", function()
      local c = H.client(m)
      local created = c:request("POST", "/billing_groups",
        { query = { filter = { name = "a b" }, page = { size = 5 } }, body = { name = "via-request" } })
      assert.are.equal("via-request", created.data.name)
      local req = H.requests(m, PATH)[1]
      assert.are.equal("POST", req.method)
      assert.are.equal("filter%5Bname%5D=a%20b&page%5Bsize%5D=5", req.query)
      assert.are.same({ name = "via-request" }, telnyx.json.decode(req.body))
    end)

    it("uses the method given to client:request (PATCH, DELETE)", function()
      local c = H.client(m)
      local id = c.billing_groups:create { name = "before" }.data.id
      local patched = c:request("PATCH", "/billing_groups/" .. id, { body = { name = "after" } })
      assert.are.equal("after", patched.data.name)
      c:request("DELETE", "/billing_groups/" .. id)
      local reqs = H.requests(m, PATH .. "/" .. id)
      assert.are.same({ "PATCH", "DELETE" }, { reqs[1].method, reqs[2].method })
    end)
  end)

  describe("request headers", function()
    local function only_request(prefix) return H.requests(m, prefix or PATH)[1] end

    it("sends Authorization: Bearer <key>", function()
      H.client(m):request("GET", "/billing_groups")
      assert.are.equal("Bearer " .. H.API_KEY, only_request().headers.authorization)
    end)

    it("sends User-Agent telnyx-lua/<VERSION> (Lua 5.4; libcurl <version>)", function()
      H.client(m):request("GET", "/billing_groups")
      local ua = only_request().headers["user-agent"]
      assert.matches("^telnyx%-lua/" .. escape(telnyx.VERSION) .. " %(Lua 5%.4; libcurl %d+%.%d+%.%d+[%w.-]*%)$", ua)
    end)

    it("sends Accept: application/json", function()
      H.client(m):request("GET", "/billing_groups")
      assert.are.equal("application/json", only_request().headers.accept)
    end)

    it("sends Content-Type: application/json with a body and none without", function()
      local c = H.client(m)
      c.billing_groups:create { name = "ct" }
      c.billing_groups:list():collect()
      local reqs = H.requests(m, PATH)
      assert.are.equal("POST", reqs[1].method)
      assert.are.equal("application/json", reqs[1].headers["content-type"])
      assert.are.equal("GET", reqs[2].method)
      assert.is_nil(reqs[2].headers["content-type"])
    end)

    it("sends no Content-Type on a POST without a body (create_token)", function()
      local c = H.client(m)
      local id = c.telephony_credentials:create { connection_id = "1" }.data.id
      c.telephony_credentials:create_token(id)
      local req = only_request("/v2/telephony_credentials/" .. id .. "/token")
      assert.is_nil(req.headers["content-type"])
      assert.are.equal("", req.body)
    end)

    it("sends the client's extra headers on every request", function()
      local c = H.client(m, { headers = { ["X-Spec-Client"] = "client-value" } })
      c:request("GET", "/billing_groups")
      c.billing_groups:create { name = "h" }
      for _, req in ipairs(H.requests(m, PATH)) do
        assert.are.equal("client-value", req.headers["x-spec-client"])
      end
    end)

    it("sends a call's own headers, which replace the client's of the same name", function()
      local c = H.client(m, { headers = { ["X-Trace"] = "from-client", ["X-Keep"] = "kept" } })
      c:request("GET", "/billing_groups", { headers = { ["x-trace"] = "from-call", ["X-Call"] = "1" } })
      c.billing_groups:list({}, { headers = { ["X-Resource-Call"] = "2" } }):collect()
      local reqs = H.requests(m, PATH)
      assert.are.equal("from-call", reqs[1].headers["x-trace"]) -- one value, not both joined
      assert.are.equal("kept", reqs[1].headers["x-keep"])
      assert.are.equal("1", reqs[1].headers["x-call"])
      assert.are.equal("2", reqs[2].headers["x-resource-call"])
      assert.are.equal("from-client", reqs[2].headers["x-trace"])
    end)

    it("never lets an extra header replace Authorization", function()
      local c = H.client(m, { headers = { authorization = "Bearer other" } })
      c:request("GET", "/billing_groups", { headers = { AUTHORIZATION = "Bearer third" } })
      assert.are.equal("Bearer " .. H.API_KEY, only_request().headers.authorization)
    end)

    it("lets an extra User-Agent header replace the default one", function()
      H.client(m, { headers = { ["user-agent"] = "my-app/2.0" } }):request("GET", "/billing_groups")
      assert.are.equal("my-app/2.0", only_request().headers["user-agent"]) -- one value, not two
    end)

    it("reads extra headers from TELNYX_CUSTOM_HEADERS ('Name: value' lines)", function()
      local r = H.child(m, [[
        local telnyx = require "telnyx"
        telnyx.new{ headers = { ["X-From-Option"] = "opt" } }:request("GET", "/billing_groups")
      ]], { TELNYX_CUSTOM_HEADERS = "X-Env-One: one\nX-Env-Two:  two words\r\nX-From-Option: env" })
      assert.are.equal(0, r.status, r.stderr)
      local req = only_request()
      assert.are.equal("one", req.headers["x-env-one"])
      assert.are.equal("two words", req.headers["x-env-two"])
      assert.are.equal("opt", req.headers["x-from-option"]) -- the option wins over the environment
    end)
  end)

  describe("connections", function()
    it("keeps one connection alive across many sequential requests", function()
      local c = H.client(m)
      for i = 1, 10 do c.billing_groups:create { name = "keep-" .. i } end
      for _ = 1, 10 do c:request("GET", "/billing_groups") end
      local reqs = H.requests(m, PATH)
      assert.are.equal(20, #reqs)
      local _, nconn = H.connections(reqs)
      assert.are.equal(1, nconn)
      assert.are.equal(1, m:stats().connections_opened)
    end)
  end)

  describe("secrets", function()
    it("shows the base URL and never the key in tostring(client)", function()
      local c = H.client(m)
      local s = tostring(c)
      assert.truthy(s:find(m.url, 1, true), s)
      assert.is_nil(s:find(H.API_KEY, 1, true))
      assert.are.equal(m.url, c.base_url)
    end)

    it("keeps the key out of error fields and tostring", function()
      m:fault { path = PATH, status = 401 }
      local err = failing_get(H.client(m))
      assert.are.equal("AuthenticationError", err.type)
      for _, text in ipairs { tostring(err), err.message, err.url, telnyx.json.encode(err.headers) } do
        assert.is_nil(text:find(H.API_KEY, 1, true), text)
      end
    end)

    it("keeps the key out of a connection error", function()
      local c = telnyx.new { api_key = H.API_KEY, base_url = "http://127.0.0.1:" .. H.closed_port() .. "/v2",
                             max_retries = 0 }
      local err = failing_get(c)
      assert.are.equal("APIConnectionError", err.type)
      assert.is_nil(tostring(err):find(H.API_KEY, 1, true))
    end)
  end)

  describe("bad input is refused before any request", function()
    -- Runs f, which must raise an error matching `pattern`, and checks the mock saw nothing.
    local function refused(pattern, f)
      local before = m:stats().requests
      local err = H.failure(f)
      assert.are.equal("string", type(err), "a plain error message")
      assert.matches(pattern, err)
      assert.are.equal(before, m:stats().requests)
      return err
    end

    it("a negative timeout", function()
      refused("timeout must be a positive number", function() telnyx.new { timeout = -1 } end)
    end)

    it("options that are not a table", function()
      refused("options must be a table", function() telnyx.new("x") end)
    end)

    it("an unknown option, named in the message", function()
      refused("unknown option 'api_kye'", function() telnyx.new { api_kye = "k", base_url = m.url } end)
    end)

    it("an api_key with CR or LF, without echoing it", function()
      local err = refused("api_key must be", function()
        telnyx.new { api_key = "abc\r\nX-Injected: 1", base_url = m.url }
      end)
      assert.is_nil(err:find("Injected", 1, true))
    end)

    it("a base URL that is not http(s)", function()
      refused("base_url must start with https://", function()
        telnyx.new { api_key = "k", base_url = "ftp://127.0.0.1:" .. m.port .. "/v2" }
      end)
    end)

    it("plain http to a host that is not loopback", function()
      refused("plain http://", function() telnyx.new { api_key = "k", base_url = "http://example.com/v2" } end)
    end)

    it("a base URL with credentials, without echoing them", function()
      local err = refused("credentials", function()
        telnyx.new { api_key = "k", base_url = "http://user:hunter2pw@127.0.0.1:" .. m.port .. "/v2" }
      end)
      assert.is_nil(err:find("hunter2pw", 1, true))
    end)

    it("a client header value with CR or LF", function()
      refused("contains CR, LF or NUL", function()
        telnyx.new { api_key = "k", base_url = m.url, headers = { ["X-A"] = "a\r\nX-Injected: 1" } }
      end)
    end)

    it("a per-call header value with CR or LF", function()
      local c = H.client(m)
      refused("contains CR, LF or NUL", function()
        c:request("GET", "/billing_groups", { headers = { ["X-A"] = "a\nX-Injected: 1" } })
      end)
    end)

    it("an invalid header name", function()
      refused("invalid header name", function()
        telnyx.new { api_key = "k", base_url = m.url, headers = { ["Bad Name"] = "v" } }
      end)
    end)

    it("a negative max_retries", function()
      refused("max_retries must be between 0 and 100", function()
        telnyx.new { api_key = "k", base_url = m.url, max_retries = -1 }
      end)
    end)

    it("a per-call max_retries that is not an integer, and a zero per-call timeout", function()
      local c = H.client(m)
      refused("max_retries must be an integer", function() c:request("GET", "/billing_groups", { max_retries = 1.5 }) end)
      refused("timeout must be a positive number", function() c:request("GET", "/billing_groups", { timeout = 0 }) end)
    end)

    it("an unknown per-call option", function()
      local c = H.client(m)
      refused("unknown option 'retries'", function() c:request("GET", "/billing_groups", { retries = 1 }) end)
      refused("unknown option 'raw'", function() c.billing_groups:list({}, { raw = true }) end)
    end)

    it("a client:request path without a leading slash or with a query string", function()
      local c = H.client(m)
      refused("path must start with '/'", function() c:request("GET", "billing_groups") end)
      refused("opts%.query", function() c:request("GET", "/billing_groups?x=1") end)
    end)

    it("an HTTP method client:request does not know", function()
      local c = H.client(m)
      refused("invalid option 'FETCH'", function() c:request("FETCH", "/billing_groups") end)
    end)

    it("a missing required body field, naming the method and the field", function()
      local c = H.client(m)
      refused("access_ip_address:create: missing required field 'ip_address'", function()
        c.access_ip_address:create { description = "no address" }
      end)
    end)

    it("an id that is not a non-empty string", function()
      local c = H.client(m)
      refused("billing_groups:retrieve: .* must be a non%-empty string", function() c.billing_groups:retrieve("") end)
      refused("billing_groups:delete: .* must be a non%-empty string", function() c.billing_groups:delete(42) end)
    end)

    it("a missing API key: AuthenticationError at the first request, nothing sent", function()
      local r = H.child(m, [[
        local telnyx = require "telnyx"
        local c = telnyx.new{}                     -- no key yet: this must not fail
        local ok, err = pcall(c.request, c, "GET", "/billing_groups")
        print(ok, telnyx.is_error(err, "AuthenticationError"), err.message)
      ]], { TELNYX_API_KEY = false })
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("^false\ttrue\t.*API key", r.stdout)
      assert.are.equal(0, m:stats().requests)
    end)
  end)
end)
