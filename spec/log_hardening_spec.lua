-- TELNYX_LOG=debug against what users and servers put in headers and bodies: any header that
-- may carry a credential is redacted (by a rule on its name, and every header the user added
-- unless its name is known to be harmless), and no control sequence from the API reaches the
-- terminal through the log.
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

local PATH = "/v2/billing_groups"

describe("debug log hardening", function()
  local m

  setup(function() m = mock.start { seed = 37 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  describe("credentials in headers", function()
    -- name -> value; each value distinctive, so finding it in the log is a leak
    local CUSTOM = {
      ["X-Api-Token"] = "hunter2-LOG13a", ["X-Client-Secret"] = "LOG13b", ["X-Session-Id"] = "LOG13c",
      ["X-Auth-User"] = "LOG13d", ["X-Password"] = "LOG13e", ["X-Signature"] = "LOG13f",
      ["X-Credential"] = "LOG13g", ["X-Tenant"] = "opaque-LOG13h", ["Idempotency-Key"] = "LOG13i",
    }
    local OPTION = { ["X-Access-TOKEN"] = "LOG13j", ["X-Shard"] = "opaque-LOG13k" }

    local function run()
      local lines = {}
      for name, value in pairs(CUSTOM) do lines[#lines + 1] = name .. ": " .. value end
      local code = ([[
        local c = require("telnyx").new{ headers = { ["X-Access-TOKEN"] = %q, ["X-Shard"] = %q } }
        c:request("GET", "/billing_groups", { headers = { ["X-Call-Token"] = "LOG13l" } })
      ]]):format(OPTION["X-Access-TOKEN"], OPTION["X-Shard"])
      m:fault { path = PATH, status = 200, body = { data = {} },
                headers = { ["X-Upstream-Token"] = "LOG13m", ["X-Request-Id"] = "shown-LOG13" } }
      return H.child(m, code, { TELNYX_LOG = "debug", TELNYX_CUSTOM_HEADERS = table.concat(lines, "\n") })
    end

    it("redacts every custom header value from TELNYX_CUSTOM_HEADERS, headers and call headers", function()
      local r = run()
      assert.are.equal(0, r.status, r.stderr)
      for name, value in pairs(CUSTOM) do
        assert.is_nil(r.stderr:find(value, 1, true), name .. " leaked:\n" .. r.stderr)
        assert.truthy(r.stderr:find(name .. ": [redacted]", 1, true), name .. "\n" .. r.stderr)
      end
      for name, value in pairs(OPTION) do
        assert.is_nil(r.stderr:find(value, 1, true), name .. " leaked")
      end
      assert.is_nil(r.stderr:find("LOG13l", 1, true), "a call header leaked")
    end)

    it("redacts response headers whose name says credential, and shows the others", function()
      local r = run()
      assert.is_nil(r.stderr:find("LOG13m", 1, true), "X-Upstream-Token leaked")
      assert.truthy(r.stderr:find("shown-LOG13", 1, true), r.stderr)
      assert.truthy(r.stderr:find("Accept: application/json", 1, true), r.stderr)
    end)
  end)

  describe("control characters from the API", function()
    it("never writes ESC, other C0 controls or C1 controls from a body or a header", function()
      m:fault { path = PATH, status = 200,
                body = '{"data":[],"x":"\27[2J\27]0;pwned\7 \194\155 31m \8\r"}',
                headers = { ["X-Evil"] = "a\27[31mred" } }
      local r = H.child(m, [[
        local c = require("telnyx").new()
        pcall(c.request, c, "GET", "/billing_groups")
      ]], { TELNYX_LOG = "debug" })
      assert.is_truthy(r.stderr:find("response body", 1, true), r.stderr)
      assert.is_nil(r.stderr:find("\27", 1, true), "ESC reached the log")
      assert.is_nil(r.stderr:find("\7", 1, true), "BEL reached the log")
      assert.is_nil(r.stderr:find("\8", 1, true), "BS reached the log")
      assert.is_nil(r.stderr:find("\r", 1, true), "CR reached the log")
      assert.is_nil(r.stderr:find("\194\155", 1, true), "C1 CSI reached the log")
      assert.truthy(r.stderr:find("\\x1b[2J", 1, true), "escaped, still readable:\n" .. r.stderr)
    end)
  end)
end)
