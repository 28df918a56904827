-- TELNYX_LOG: what each level writes on stderr (never stdout), and that credentials never reach
-- the log. Each case runs a child build/telnyx-lua against the mock, so the level is read from
-- the environment exactly as users set it.
local mock = require "spec.support.mock"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

local PATH = "/v2/billing_groups"

-- "telnyx: GET /v2/billing_groups -> 200 (attempt 1, 3 ms)"
local ATTEMPT_LINE = "^telnyx: (%u+) (/%S*) %-> (%S.-) %(attempt (%d+), (%d+) ms%)$"

-- The attempt lines of a stderr text, parsed.
local function attempt_lines(stderr)
  local out = {}
  for _, line in ipairs(cli.lines(stderr)) do
    local method, path, result, attempt, ms = line:match(ATTEMPT_LINE)
    if method then
      out[#out + 1] = { method = method, path = path, result = result, attempt = tonumber(attempt),
                        ms = tonumber(ms) }
    end
  end
  return out
end

-- Two calls, the first answered 503 once and retried; prints nothing itself.
local TWO_CALLS = [[
  local c = require("telnyx").new()
  c:request("GET", "/billing_groups")
  c.billing_groups:create{ name = "logged" }
]]

describe("logging", function()
  local m

  setup(function() m = mock.start { seed = 31 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  describe("TELNYX_LOG=info", function()
    it("writes one line per attempt (method, path, status, attempt, ms) on stderr, nothing on stdout", function()
      m:fault { path = PATH, method = "GET", status = 503, count = 1, headers = H.RETRY_NOW }
      local r = H.child(m, TWO_CALLS, { TELNYX_LOG = "info" })
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("", r.stdout)
      local lines = attempt_lines(r.stderr)
      local reqs = H.requests(m, PATH)
      assert.are.equal(#reqs, #lines, r.stderr)
      assert.are.equal(3, #lines)
      for i, line in ipairs(lines) do
        assert.are.equal(reqs[i].method, line.method)
        assert.are.equal(reqs[i].path, line.path)
        assert.are.equal(tostring(math.tointeger(reqs[i].status)), line.result)
      end
      assert.are.same({ 1, 2, 1 }, { lines[1].attempt, lines[2].attempt, lines[3].attempt })
      for _, line in ipairs(cli.lines(r.stderr)) do assert.matches("^telnyx: ", line) end
    end)

    it("says when and how long before a retry", function()
      m:fault { path = PATH, method = "GET", status = 503, count = 1, headers = H.RETRY_NOW }
      local r = H.child(m, TWO_CALLS, { TELNYX_LOG = "info" })
      assert.are.equal(1, #H.lines_with(r.stderr, "retrying GET in "), r.stderr)
    end)

    it("logs an attempt that got no answer, with the reason", function()
      local url = "http://127.0.0.1:" .. H.closed_port() .. "/v2"
      local r = H.child(m, [[
        local c = require("telnyx").new{ max_retries = 0 }
        pcall(c.request, c, "GET", "/billing_groups")
      ]], { TELNYX_LOG = "info", TELNYX_BASE_URL = url })
      local lines = attempt_lines(r.stderr)
      assert.are.equal(1, #lines, r.stderr)
      assert.are.equal("/v2/billing_groups", lines[1].path)
      assert.is_nil(lines[1].result:match("^%d+$"), "a reason, not a status: " .. lines[1].result)
    end)

    it("is read case-insensitively", function()
      local r = H.child(m, TWO_CALLS, { TELNYX_LOG = "INFO" })
      assert.are.equal(2, #attempt_lines(r.stderr), r.stderr)
    end)
  end)

  describe("quiet levels", function()
    local FAILING_TOO = TWO_CALLS .. [[
      pcall(c.billing_groups.retrieve, c.billing_groups, "missing")
    ]]

    it("off prints nothing, even for a failed call", function()
      local r = H.child(m, FAILING_TOO, { TELNYX_LOG = "off" })
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("", r.stderr)
      assert.are.equal("", r.stdout)
      assert.are.equal(3, #H.requests(m)) -- the calls were made
    end)

    it("the default (warn) prints nothing for ordinary calls", function()
      local r = H.child(m, FAILING_TOO, { TELNYX_LOG = false })
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("", r.stderr)
    end)

    it("an unknown level falls back to the default", function()
      local r = H.child(m, FAILING_TOO, { TELNYX_LOG = "verbose-please" })
      assert.are.equal("", r.stderr)
    end)
  end)

  describe("TELNYX_LOG=debug", function()
    -- Secrets the child sends or receives; none may reach stderr.
    local SECRETS = {
      password = "pw-LOGSPEC-1", token = "tok-LOGSPEC-2", x_api_key = "xak-LOGSPEC-3",
      cookie = "ck-LOGSPEC-4", set_cookie = "sc-LOGSPEC-5", nested_key = "ak-LOGSPEC-6",
      secret_item = "sv-LOGSPEC-7",
    }
    local CHILD = ([[
      local telnyx = require "telnyx"
      local c = telnyx.new{ headers = { ["X-Api-Key"] = %q, Cookie = "session=" .. %q } }
      local conn = c.credential_connections:create{ connection_name = "logspec",
        user_name = "logspecuser", password = %q }
      c.integration_secrets:create{ identifier = "logspec", type = "bearer", token = %q }
      local cred = c.telephony_credentials:create{ connection_id = conn.data.id }
      local jwt = c.telephony_credentials:create_token(cred.data.id)
      c:request("GET", "/billing_groups")
      pcall(c.request, c, "POST", "/billing_groups", { body =
        '{"name": "raw body", "nested": {"api_key" : %q, "my_secret_list": [%q, {"x": 1}]}, "after": "shown-after"}' })
      -- values only the server knew, for the parent to look for in stderr
      io.write(cred.data.sip_password, "\n", jwt, "\n")
    ]]):format(SECRETS.x_api_key, SECRETS.cookie, SECRETS.password, SECRETS.token,
               SECRETS.nested_key, SECRETS.secret_item)

    local r, server_secrets

    before_each(function()
      m:fault { path = PATH, method = "GET", status = 200, body = { data = {} },
                headers = { ["Set-Cookie"] = "sid=" .. SECRETS.set_cookie } }
      r = H.child(m, CHILD, { TELNYX_LOG = "debug" })
      assert.are.equal(0, r.status, r.stderr)
      server_secrets = cli.lines(r.stdout)
      assert.are.equal(2, #server_secrets, r.stdout)
    end)

    it("never shows the API key", function()
      assert.is_nil(r.stderr:find(H.API_KEY, 1, true))
      assert.truthy(r.stderr:find("Authorization: [redacted]", 1, true), r.stderr)
    end)

    it("redacts secret fields of request bodies (password, token, *secret*, api_key, nested)", function()
      for name, value in pairs(SECRETS) do
        assert.is_nil(r.stderr:find(value, 1, true), name .. " leaked")
      end
      assert.truthy(r.stderr:find('"password":"[redacted]"', 1, true))
      assert.truthy(r.stderr:find('"token":"[redacted]"', 1, true))
      assert.truthy(r.stderr:find('"api_key" : "[redacted]"', 1, true), r.stderr)
      assert.truthy(r.stderr:find('"my_secret_list": "[redacted]"', 1, true), r.stderr)
      -- redaction stops at the secret's value: what follows is still shown
      assert.truthy(r.stderr:find('"after": "shown-after"', 1, true))
    end)

    it("redacts secrets the server sent (sip_password, the JWT body of create_token)", function()
      for _, value in ipairs(server_secrets) do
        assert.is_true(#value > 0)
        assert.is_nil(r.stderr:find(value, 1, true), "a server-sent secret leaked")
      end
      assert.truthy(r.stderr:find('"sip_password":"[redacted]"', 1, true))
    end)

    it("redacts secret headers both ways (X-Api-Key, Cookie, Set-Cookie)", function()
      assert.truthy(r.stderr:find("X-Api-Key: [redacted]", 1, true), r.stderr)
      assert.truthy(r.stderr:find("Cookie: [redacted]", 1, true))
      assert.truthy(r.stderr:find("Set-Cookie: [redacted]", 1, true), r.stderr)
    end)

    it("shows the request and response headers and the other body fields", function()
      assert.truthy(r.stderr:find("request POST " .. m.url .. "/credential_connections", 1, true))
      assert.truthy(r.stderr:find("Accept: application/json", 1, true))
      assert.truthy(r.stderr:find("Content-Type: application/json", 1, true))
      assert.truthy(r.stderr:find("HTTP/1.1 200", 1, true))
      assert.truthy(r.stderr:find("x-request-id: ", 1, true))
      assert.truthy(r.stderr:find('"user_name":"logspecuser"', 1, true))
      assert.truthy(r.stderr:find('"connection_name":"logspec"', 1, true))
      assert.is_true(#attempt_lines(r.stderr) >= 6, "the info lines too")
    end)

    it("redacts awkward secret values: escaped quotes, any key case, inside arrays, numbers", function()
      local rr = H.child(m, [[
        local c = require("telnyx").new{ max_retries = 0 }
        pcall(c.request, c, "POST", "/billing_groups", { body = { name = "n",
          Password = 'a"b-LEAKONE', list = { { token = "LEAKTWO" }, { SECRET = { deep = "LEAKTHREE" } } },
          sip_password = 987654321 } })
      ]], { TELNYX_LOG = "debug" })
      assert.are.equal(0, rr.status, rr.stderr)
      for _, leak in ipairs { "LEAKONE", "LEAKTWO", "LEAKTHREE", "987654321" } do
        assert.is_nil(rr.stderr:find(leak, 1, true), leak .. " leaked")
      end
      assert.truthy(rr.stderr:find('"Password":"[redacted]"', 1, true), rr.stderr)
      assert.truthy(rr.stderr:find('"name":"n"', 1, true))
    end)

    it("keeps the key out of an uncaught error's traceback", function()
      local rr = H.child(m, [[ require("telnyx").new{ max_retries = 0 }.billing_groups:retrieve("nope") ]],
                         { TELNYX_LOG = "debug" })
      assert.are.equal(1, rr.status)
      assert.truthy(rr.stderr:find("NotFoundError: 404", 1, true))
      assert.is_nil(rr.stderr:find(H.API_KEY, 1, true))
    end)
  end)
end)
