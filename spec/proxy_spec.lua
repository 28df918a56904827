-- Proxies (src/conn.c): the proxy option and curl's variables (https_proxy, HTTPS_PROXY,
-- all_proxy, ALL_PROXY, NO_PROXY), through a real CONNECT proxy (tinyproxy) to the TLS front;
-- a refused proxy and a 407 are clear errors; a proxy's credentials never show in errors,
-- logs or tostring; plain http:// (loopback only) never goes through a proxy.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local tls = require "spec.support.tls"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

local PASSWORD = "PROXYpw0199secretZ"
local PROXY_VARS = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
                     "http_proxy", "HTTP_PROXY" }

-- A GET of /billing_groups in a child host: "ok" or the error line; and its stderr.
local CHILD = [[
local telnyx = require "telnyx"
local c = telnyx.new { max_retries = 0 }
local ok, err = pcall(c.request, c, "GET", "/billing_groups")
print(ok and "ok" or tostring(err))
print(tostring(c))
]]

local function child(base_url, ca, env)
  local e = { TELNYX_BASE_URL = base_url, TELNYX_API_KEY = H.API_KEY, TELNYX_CA_BUNDLE = ca }
  for _, name in ipairs(PROXY_VARS) do e[name] = false end
  for k, v in pairs(env or {}) do e[k] = v end
  local r = cli.run { cli.HOST, "-e", CHILD, env = e, timeout = 30 }
  assert.are.equal(0, r.status, r.stderr)
  return cli.lines(r.stdout)[1], r
end

-- CONNECT requests the proxy's log shows.
local function connects(proxy)
  local n = 0
  for _ in proxy:log():gmatch("CONNECT[^\n]*Established connection") do n = n + 1 end
  return n
end

describe("proxies", function()
  local m, pki, front, proxy, authed

  setup(function()
    m = mock.start { seed = 21 }
    pki = tls.pki()
    front = tls.front { backend = m.port, pki = pki }
    proxy = tls.proxy {}
    authed = tls.proxy { auth = "alice:" .. PASSWORD }
  end)
  teardown(function()
    for _, s in ipairs { authed, proxy, front } do s:stop() end
    if pki then pki:cleanup() end
    if m then m:stop() end
  end)

  local function client(opts)
    local o = { api_key = H.API_KEY, base_url = front.url, ca_bundle = pki.ca, max_retries = 0 }
    for k, v in pairs(opts) do o[k] = v end
    return telnyx.new(o)
  end

  it("the proxy option: requests go through a CONNECT tunnel", function()
    local before = connects(proxy)
    assert.is_table(client { proxy = proxy.url }:request("GET", "/billing_groups").data)
    assert.are.equal(before + 1, connects(proxy))
  end)

  it("HTTPS_PROXY, https_proxy and ALL_PROXY, as curl reads them", function()
    local dead = "http://127.0.0.1:" .. H.closed_port()
    local before = connects(proxy)
    assert.are.equal("ok", child(front.url, pki.ca, { HTTPS_PROXY = proxy.url }))
    -- the lower-case name first
    assert.are.equal("ok", child(front.url, pki.ca, { https_proxy = proxy.url, HTTPS_PROXY = dead }))
    assert.are.equal("ok", child(front.url, pki.ca, { ALL_PROXY = proxy.url }))
    assert.are.equal(before + 3, connects(proxy))
    -- an https proxy variable wins over ALL_PROXY
    assert.matches("cannot connect to the proxy " .. dead .. " %(from HTTPS_PROXY%)",
                   child(front.url, pki.ca, { HTTPS_PROXY = dead, ALL_PROXY = proxy.url }))
  end)

  it("NO_PROXY: names, domains, addresses, CIDR blocks and *, as curl matches them", function()
    local dead = "http://127.0.0.1:" .. H.closed_port()
    local localhost_url = front.url:gsub("127%.0%.0%.1", "localhost")
    for _, case in ipairs {
      { "127.0.0.1", front.url, true }, { "example.com, 127.0.0.0/8", front.url, true },
      { "*", front.url, true }, { "127.0.0.2", front.url, false }, { "localhost", front.url, false },
      { "localhost", localhost_url, true }, { ".localhost", localhost_url, true },
      { "host", localhost_url, false }, { "10.0.0.0/8", front.url, false },
    } do
      local no_proxy, url, direct = case[1], case[2], case[3]
      local line = child(url, pki.ca, { HTTPS_PROXY = dead, NO_PROXY = no_proxy })
      if direct then
        assert.are.equal("ok", line, "NO_PROXY=" .. no_proxy .. " for " .. url)
      else
        assert.matches("cannot connect to the proxy", line, 1, true)
      end
    end
    assert.are.equal("ok", child(front.url, pki.ca, { HTTPS_PROXY = dead, no_proxy = "127.0.0.1" }))
  end)

  it("proxy = false ignores the variables; plain http:// to loopback never uses a proxy", function()
    local dead = "http://127.0.0.1:" .. H.closed_port()
    local c = client { proxy = false }
    assert.is_table(c:request("GET", "/billing_groups").data)
    local line = child(m.url, pki.ca, { HTTPS_PROXY = dead, ALL_PROXY = dead, http_proxy = dead })
    assert.are.equal("ok", line)
  end)

  it("a proxy that refuses connections: a clear error", function()
    local dead = "http://127.0.0.1:" .. H.closed_port()
    local err = H.failure(client { proxy = dead }.request, client { proxy = dead }, "GET", "/billing_groups")
    assert.are.equal("APIConnectionError", err.type)
    assert.matches("cannot connect to the proxy " .. dead .. " (from the proxy option)", err.message, 1, true)
  end)

  it("407 from the proxy: a clear error, not retried, without the credentials", function()
    local c = client { proxy = authed.url, max_retries = 2 }
    local err = H.failure(c.request, c, "GET", "/billing_groups")
    assert.are.equal("APIConnectionError", err.type)
    assert.matches("refused the tunnel: HTTP 407, Proxy Authentication Required", err.message, 1, true)
    assert.are.equal(1, err.attempts)
    local wrong = authed.url:gsub("//", "//alice:wrong" .. PASSWORD .. "@")
    c = client { proxy = wrong }
    err = H.failure(c.request, c, "GET", "/billing_groups")
    assert.matches("http://[redacted]@127.0.0.1:" .. authed.port, err.message, 1, true)
    assert.matches("check the user name and password", err.message, 1, true)
    assert.is_nil(tostring(err):find(PASSWORD, 1, true))
  end)

  it("credentials of a proxy never show in errors, debug logs or tostring", function()
    local with_auth = authed.url:gsub("//", "//alice:" .. PASSWORD .. "@")
    local line, r = child(front.url, pki.ca, { HTTPS_PROXY = with_auth, TELNYX_LOG = "debug" })
    assert.are.equal("ok", line)
    assert.matches("through the proxy http://[redacted]@127.0.0.1:" .. authed.port .. " (from HTTPS_PROXY)",
                   r.stderr, 1, true)
    assert.is_nil((r.stdout .. r.stderr):find(PASSWORD, 1, true))
    local dead = "http://alice:" .. PASSWORD .. "@127.0.0.1:" .. H.closed_port()
    line, r = child(front.url, pki.ca, { HTTPS_PROXY = dead, TELNYX_LOG = "debug" })
    assert.matches("cannot connect to the proxy http://[redacted]@127.0.0.1:", line, 1, true)
    assert.is_nil((r.stdout .. r.stderr):find(PASSWORD, 1, true))
    -- a malformed proxy URL is refused without echoing its password
    local ok, err = pcall(telnyx.new, { base_url = front.url, proxy = "ftp://alice:" .. PASSWORD .. "@host:1" })
    assert.is_false(ok)
    assert.matches("the proxy (the proxy option) must be a URL such as http://host:port", err, 1, true)
    assert.is_nil(err:find(PASSWORD, 1, true))
    ok, err = pcall(telnyx.new, { base_url = front.url, proxy = 3128 })
    assert.matches("proxy must be a URL string, or false for none", err, 1, true)
  end)
end)
