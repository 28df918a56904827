-- Timeouts as libcurl gets them, and the loopback rule of plain http:// (issue 22, items 6
-- and 7): a sub-millisecond timeout is a timeout, not "none"; huge, infinite, NaN, zero and
-- negative ones are refused (timeout, connect_timeout, per call); only literal loopback
-- hosts may be reached over plain http://, never a name a resolver would answer.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

local function refused(opts, pattern)
  local ok, err = pcall(telnyx.new, opts)
  assert.is_false(ok, "accepted: " .. tostring(opts.base_url or opts.timeout or opts.connect_timeout))
  assert.matches(pattern, err, 1, true)
end

describe("timeouts", function()
  local m
  setup(function() m = mock.start { seed = 22 } end)
  teardown(function() if m then m:stop() end end)

  it("0.0004 s is rounded up to 1 ms, not turned into no timeout", function()
    m:latency(200)
    local c = H.client(m, { timeout = 0.0004, max_retries = 0 })
    local err = H.failure(c.request, c, "GET", "/billing_groups")
    assert.are.equal("APIConnectionTimeoutError", err.type)
    err = H.failure(c.request, H.client(m, { max_retries = 0 }), "GET", "/billing_groups",
                    { timeout = 0.0004 })
    assert.are.equal("APIConnectionTimeoutError", err.type)
    m:latency(0)
  end)

  it("too large, infinite, NaN, zero or negative: refused with the name of the option", function()
    for _, name in ipairs { "timeout", "connect_timeout" } do
      for _, v in ipairs { 1e17, 1e300, math.huge, 86400.5 } do
        refused({ base_url = m.url, [name] = v }, "telnyx.new: " .. name .. " must be at most 86400 seconds")
      end
      for _, v in ipairs { 0 / 0, 0, -1, -math.huge } do
        refused({ base_url = m.url, [name] = v }, "telnyx.new: " .. name .. " must be a positive number")
      end
      refused({ base_url = m.url, [name] = "5" .. "x" }, name .. " must be a number of seconds")
      assert.is_userdata(telnyx.new { base_url = m.url, [name] = 86400 })
    end
    local c = H.client(m)
    for _, v in ipairs { 1e17, math.huge, 0 / 0, -1 } do
      local ok, err = pcall(c.request, c, "GET", "/billing_groups", { timeout = v })
      assert.is_false(ok)
      assert.matches("request options: timeout must be", err, 1, true)
    end
  end)
end)

describe("plain http:// only to a literal loopback host", function()
  for _, url in ipairs {
    "http://127.0.0.1.2:9/v2", "http://127.:9/v2", "http://127.1:9/v2", "http://127.0.1:9/v2",
    "http://0x7f.0.0.1:9/v2", "http://0177.0.0.1:9/v2", "http://127.0.0.01:9/v2",
    "http://127.0.0.256:9/v2", "http://127.0.0.1.:9/v2", "http://127.0.0.1.nip.io/v2",
    "http://localhost.:9/v2", "http://localhost.example.com/v2", "http://2130706433:9/v2",
    "http://[::ffff:127.0.0.1]:9/v2", "http://[0:0:0:0:0:0:0:1]:9/v2", "http://128.0.0.1:9/v2",
  } do
    it("refuses " .. url, function()
      refused({ base_url = url }, "plain http:// to a host that is not loopback")
    end)
  end

  for _, url in ipairs { "http://127.0.0.1:9:9/v2", "http://127.0.0.1:0/v2", "http://127.0.0.1:65536/v2",
                         "http://127.0.0.1:/v2", "http://localhost:9x/v2", "https://api.telnyx.com:x/v2" } do
    it("refuses the port of " .. url, function()
      refused({ base_url = url }, "base_url has an invalid port")
    end)
  end

  for _, url in ipairs { "http://127.0.0.1:9/v2", "http://127.255.255.254/v2", "http://127.0.0.0:80/v2",
                         "http://localhost:9/v2", "http://LocalHost/v2", "http://[::1]:9/v2",
                         "https://api.telnyx.com/v2", "https://[2001:db8::1]:8443/v2" } do
    it("accepts " .. url, function()
      assert.is_userdata(telnyx.new { base_url = url })
    end)
  end
end)
