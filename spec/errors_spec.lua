-- Error objects: one type per kind of failure, each with the fields of the contract
-- (type, status, message, errors, headers, request_id, method, url), a one-line tostring, and
-- telnyx.is_error to tell them apart. Produced by real requests to the mock.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

local PATH = "/v2/billing_groups"

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- Checks what every error object has, whatever its kind: the request it came from and a
-- one-line tostring naming type, status, method, path and message.
local function assert_common(err, method, url)
  assert.is_true(telnyx.is_error(err))
  assert.is_true(telnyx.is_error(err, err.type))
  assert.are.equal(method, err.method)
  assert.are.equal(url, err.url)
  assert.are.equal("string", type(err.message))
  assert.is_true(#err.message > 0, "a message")
  assert.is_nil(err.message:find("[\r\n]"), "one-line message: " .. err.message)
  assert.are.equal("table", type(err.errors))
  assert.are.equal("table", type(err.headers))
  for name in pairs(err.headers) do assert.are.equal(name:lower(), name) end
  local s = tostring(err)
  assert.is_nil(s:find("[\r\n]"), "one line: " .. s)
  local path = url:match("^https?://[^/]+(/.*)$")
  for _, part in ipairs { err.type, method, path, err.message } do
    assert.truthy(s:find(part, 1, true), ("%q in %q"):format(part, s))
  end
  if err.status then assert.truthy(s:find(tostring(err.status), 1, true), s) end
  assert.is_nil(s:find(H.API_KEY, 1, true))
end

describe("error objects", function()
  local m

  setup(function() m = mock.start { seed = 23 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  -- One client for these specs: no retries, so each failure is one request.
  local function client() return H.client(m, { max_retries = 0 }) end

  local function get_failure(c)
    c = c or client()
    return H.failure(c.request, c, "GET", "/billing_groups")
  end

  describe("from HTTP status codes", function()
    local cases = {
      { 400, "BadRequestError" },
      { 401, "AuthenticationError" },
      { 403, "PermissionDeniedError" },
      { 409, "ConflictError" },
      { 429, "RateLimitError" },
      { 500, "InternalServerError" },
      { 503, "InternalServerError" },
      { 418, "APIStatusError" },
    }
    for _, case in ipairs(cases) do
      local status, kind = case[1], case[2]
      it(("%d -> %s with the API's first error as the message"):format(status, kind), function()
        m:fault { path = PATH, status = status }
        local err = get_failure()
        assert.are.equal(kind, err.type)
        assert.are.equal(status, err.status)
        assert.is_false(telnyx.is_error(err, kind == "NotFoundError" and "ConflictError" or "NotFoundError"))
        assert_common(err, "GET", m.url .. "/billing_groups")
        -- the mock sends errors = {{code, title, detail}}: the message is built from them
        local first = err.errors[1]
        assert.are.equal(1, #err.errors)
        assert.truthy(err.message:find(first.title, 1, true), err.message)
        assert.truthy(err.message:find(first.detail, 1, true), err.message)
        assert.truthy(err.message:find(tostring(first.code), 1, true), err.message)
        assert.are.equal(1, #H.requests(m, PATH))
      end)
    end

    it("404 -> NotFoundError from a real retrieve of a missing id", function()
      local c = client()
      local err = H.failure(c.billing_groups.retrieve, c.billing_groups, "missing-id")
      assert.are.equal("NotFoundError", err.type)
      assert.are.equal(404, err.status)
      assert.is_true(telnyx.is_error(err, "NotFoundError"))
      assert_common(err, "GET", m.url .. "/billing_groups/missing-id")
      assert.matches("missing%-id", err.message)
    end)

    it("422 -> UnprocessableEntityError naming the invalid field", function()
      local c = client()
      local err = H.failure(c.access_ip_address.create, c.access_ip_address, { ip_address = "999.1.1.1" })
      assert.are.equal("UnprocessableEntityError", err.type)
      assert.are.equal(422, err.status)
      assert_common(err, "POST", m.url .. "/access_ip_address")
      assert.matches("ip_address", err.message)
      assert.is_true(#err.errors >= 1)
    end)

    it("429 with max_retries = 0 -> RateLimitError after one request", function()
      m:fault { path = PATH, status = 429, count = -1, headers = { ["retry-after"] = "1" } }
      local c = H.client(m)
      local err = H.failure(c.request, c, "GET", "/billing_groups", { max_retries = 0 })
      assert.are.equal("RateLimitError", err.type)
      assert.are.equal("1", err.headers["retry-after"])
      assert.are.equal(1, #H.requests(m, PATH))
    end)
  end)

  describe("fields", function()
    it("request_id is the x-request-id the server sent", function()
      m:fault { path = PATH, status = 500, headers = { ["X-Request-Id"] = "req-7f3a-spec" } }
      local err = get_failure()
      assert.are.equal("req-7f3a-spec", err.request_id)
      assert.are.equal("req-7f3a-spec", err.headers["x-request-id"])
    end)

    it("headers carry every response header under its lower-cased name", function()
      m:fault { path = PATH, status = 400, headers = { ["X-Mixed-Case-Thing"] = "Value Kept" } }
      local err = get_failure()
      assert.are.equal("Value Kept", err.headers["x-mixed-case-thing"])
      assert.are.equal("application/json", err.headers["content-type"])
      assert.is_nil(err.headers["X-Mixed-Case-Thing"])
    end)

    it("errors is the whole array; the message comes from the first entry only", function()
      m:fault { path = PATH, status = 422, body = { errors = {
        { code = "10015", title = "Invalid name", detail = "name is too long", source = { pointer = "/name" } },
        { code = "10016", title = "Second problem", detail = "not in the message" },
      } } }
      local err = get_failure()
      assert.are.equal(2, #err.errors)
      assert.are.equal("/name", err.errors[1].source.pointer)
      assert.are.equal("Second problem", err.errors[2].title)
      assert.matches("Invalid name", err.message)
      assert.matches("name is too long", err.message)
      assert.matches("10015", err.message)
      assert.is_nil(err.message:find("Second problem", 1, true))
    end)

    it("a multi-line detail becomes a one-line message", function()
      m:fault { path = PATH, status = 400, body = { errors = { { title = "Bad", detail = "line one\nline two\r\nthree" } } } }
      local err = get_failure()
      assert.is_nil(err.message:find("[\r\n]"))
      assert.matches("line one.*line two.*three", err.message)
    end)

    it("a code alone is enough for a message", function()
      m:fault { path = PATH, status = 400, body = { errors = { { code = "10099" } } } }
      assert.matches("10099", get_failure().message)
    end)

    it("an error answer without an errors array: empty errors, the status and body in the message", function()
      m:fault { path = PATH, status = 500, content_type = "text/plain", body = "upstream exploded" }
      local err = get_failure()
      assert.are.equal("InternalServerError", err.type)
      assert.are.same({}, err.errors)
      assert.matches("500", err.message)
      assert.matches("upstream exploded", err.message)
    end)

    it("url names the request with its query, never the key", function()
      local c = client()
      m:fault { path = PATH, status = 404 }
      local err = H.failure(c.request, c, "GET", "/billing_groups", { query = { page = { number = 2 } } })
      assert.are.equal(m.url .. "/billing_groups?page%5Bnumber%5D=2", err.url)
      assert.matches("/v2/billing_groups%?page%%5Bnumber%%5D=2", tostring(err))
    end)

    it("tostring reads type: status method path: message", function()
      m:fault { path = PATH, status = 409, body = { errors = { { title = "Taken", detail = "already there" } } } }
      local err = get_failure()
      assert.are.equal("ConflictError: 409 GET /v2/billing_groups: " .. err.message, tostring(err))
    end)
  end)

  describe("without an HTTP answer", function()
    it("a timed-out attempt -> APIConnectionTimeoutError, no status", function()
      m:fault { path = PATH, action = "hang", count = -1 }
      local c = client()
      local err = H.failure(c.request, c, "GET", "/billing_groups", { timeout = 0.3 })
      assert.are.equal("APIConnectionTimeoutError", err.type)
      assert.is_nil(err.status)
      assert.is_nil(err.request_id)
      assert.matches("timed out", err.message)
      assert.is_true(telnyx.is_error(err, "APIConnectionTimeoutError"))
      assert.is_false(telnyx.is_error(err, "APIConnectionError"))
      assert_common(err, "GET", m.url .. "/billing_groups")
      assert.are.equal(1, #H.requests(m, PATH))
    end)

    it("a client-wide timeout applies too", function()
      m:fault { path = PATH, action = "hang", count = -1 }
      local err = get_failure(H.client(m, { max_retries = 0, timeout = 0.3 }))
      assert.are.equal("APIConnectionTimeoutError", err.type)
    end)

    it("connection refused -> APIConnectionError, no status", function()
      local url = "http://127.0.0.1:" .. H.closed_port() .. "/v2"
      local c = telnyx.new { api_key = H.API_KEY, base_url = url, max_retries = 0 }
      local err = H.failure(c.request, c, "GET", "/billing_groups")
      assert.are.equal("APIConnectionError", err.type)
      assert.is_nil(err.status)
      assert.is_nil(err.request_id)
      assert_common(err, "GET", url .. "/billing_groups")
    end)

    it("a connection closed halfway through the body -> APIConnectionError", function()
      m:fault { path = PATH, action = "close_mid_body", count = -1 }
      local err = get_failure()
      assert.are.equal("APIConnectionError", err.type)
      assert_common(err, "GET", m.url .. "/billing_groups")
    end)
  end)

  describe("undecodable answers", function()
    it("a 200 with a body that is not JSON under a JSON content type: status and the body's first bytes", function()
      m:fault { path = PATH, action = "bad_json" }
      local err = get_failure()
      assert.is_true(telnyx.is_error(err))
      assert.are.equal(200, err.status)
      assert.matches(escape('{"data": {"id": "3f1c"'), err.message)
      assert_common(err, "GET", m.url .. "/billing_groups")
      assert.are.equal(1, #H.requests(m, PATH)) -- not retried: the server did answer
    end)

    it("quotes at most a bounded snippet of a long bad body", function()
      m:fault { path = PATH, status = 200, content_type = "application/json", body = "<" .. string.rep("x", 5000) }
      local err = get_failure()
      assert.is_true(#err.message < 1000, "message of " .. #err.message .. " bytes")
      assert.matches("<xxxx", err.message)
    end)

    it("an HTML 502 -> InternalServerError with a readable one-line message", function()
      m:fault { path = PATH, action = "html_502" }
      local err = get_failure()
      assert.are.equal("InternalServerError", err.type)
      assert.are.equal(502, err.status)
      assert.matches("502 Bad Gateway", err.message)
      assert.are.equal("text/html", err.headers["content-type"])
      assert.are.same({}, err.errors)
      assert_common(err, "GET", m.url .. "/billing_groups")
    end)
  end)

  describe("telnyx.is_error", function()
    it("is false for strings, plain tables, nil, numbers and look-alikes", function()
      assert.is_false(telnyx.is_error("NotFoundError: 404"))
      assert.is_false(telnyx.is_error({}))
      assert.is_false(telnyx.is_error({ type = "NotFoundError", status = 404, message = "x" }))
      assert.is_false(telnyx.is_error(nil))
      assert.is_false(telnyx.is_error())
      assert.is_false(telnyx.is_error(404))
      assert.is_false(telnyx.is_error(setmetatable({ type = "NotFoundError" }, { __tostring = function() return "NotFoundError" end })))
    end)

    it("tells the type apart", function()
      m:fault { path = PATH, status = 404 }
      local err = get_failure()
      assert.is_true(telnyx.is_error(err, "NotFoundError"))
      assert.is_false(telnyx.is_error(err, "InternalServerError"))
      assert.is_false(telnyx.is_error(err, "notfounderror"))
    end)

    it("survives a re-raise: error(err) hands the same object to the next pcall", function()
      m:fault { path = PATH, status = 500 }
      local err = get_failure()
      local ok, again = pcall(error, err)
      assert.is_false(ok)
      assert.are.equal(err, again)
      assert.is_true(telnyx.is_error(again, "InternalServerError"))
    end)
  end)

  it("an uncaught one ends a script with status 1 and its one-line tostring on stderr", function()
    local r = H.child(m, [[
      local c = require("telnyx").new{ max_retries = 0 }
      c.billing_groups:retrieve("gone-id")
    ]])
    assert.are.equal(1, r.status)
    assert.matches("NotFoundError: 404 GET /v2/billing_groups/gone%-id: ", r.stderr)
    assert.is_nil(r.stderr:find(H.API_KEY, 1, true))
    assert.are.equal("", r.stdout)
    assert.are.equal(1, #cli.lines(r.stderr), r.stderr) -- no traceback unless TELNYX_LOG=debug
  end)
end)
