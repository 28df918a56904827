-- The production path over real servers (spec/support/tls.lua): https:// and HTTP/2 through
-- nghttpx in front of the mock for calls, errors, retries, the pager and telnyx.map (one
-- connection, concurrent streams, reused across calls); which CAs are trusted (ca_bundle,
-- TELNYX_CA_BUNDLE, SSL_CERT_FILE, SSL_CERT_DIR) and what an untrusted certificate says;
-- TLS and plain HTTP on each other's ports; the connect timeout.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local tls = require "spec.support.tls"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

-- The environment of a child with no CA variable set, so only what a spec names applies.
local NO_CA_ENV = { TELNYX_CA_BUNDLE = false, SSL_CERT_FILE = false, SSL_CERT_DIR = false,
                    HTTPS_PROXY = false, https_proxy = false, ALL_PROXY = false, all_proxy = false }

local function env_with(extra)
  local e = {}
  for k, v in pairs(NO_CA_ENV) do e[k] = v end
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- Runs a GET of /billing_groups in a child host with `env`; prints "ok" or the error line.
local CHILD = [[
local telnyx = require "telnyx"
local c = telnyx.new { max_retries = 0 }
local ok, err = pcall(c.request, c, "GET", "/billing_groups")
print(ok and "ok" or tostring(err))
]]

local function child(base_url, env)
  local e = env_with(env)
  e.TELNYX_BASE_URL, e.TELNYX_API_KEY = base_url, H.API_KEY
  local r = cli.run { cli.HOST, "-e", CHILD, env = e, timeout = 30 }
  assert.are.equal(0, r.status, r.stderr)
  return (r.stdout:gsub("\n$", ""))
end

local function failure(c, ...)
  local err = H.failure(c.request, c, ...)
  assert.is_true(telnyx.is_error(err), tostring(err))
  return err
end

describe("TLS and HTTP/2", function()
  local m, pki, front

  setup(function()
    m = mock.start { seed = 20 }
    pki = tls.pki()
    front = tls.front { backend = m.port, pki = pki }
  end)
  teardown(function()
    if front then front:stop() end
    if pki then pki:cleanup() end
    if m then m:stop() end
  end)
  before_each(function()
    m:reset()
    front:clear_log()
  end)

  local function client(opts)
    local o = { api_key = H.API_KEY, base_url = front.url, ca_bundle = pki.ca }
    for k, v in pairs(opts or {}) do o[k] = v end
    return telnyx.new(o)
  end

  describe("the core paths over https:// with HTTP/2", function()
    it("calls: create, retrieve, update, delete, all on one HTTP/2 connection", function()
      local c = client()
      local id = c.billing_groups:create { name = "over tls" }.data.id
      assert.are.equal("over tls", c.billing_groups:retrieve(id).data.name)
      assert.are.equal("renamed", c.billing_groups:update(id, { name = "renamed" }).data.name)
      c.billing_groups:delete(id)
      local n, log = front:connections()
      assert.are.equal(4, #log)
      for _, r in ipairs(log) do assert.are.equal("h2", r.alpn) end
      assert.are.equal(1, n, "the connection was not reused across calls")
    end)

    it("errors: an API error keeps its type, status and message", function()
      local err = failure(client(), "GET", "/billing_groups/00000000-0000-0000-0000-000000000000")
      assert.are.equal("NotFoundError", err.type)
      assert.are.equal(404, err.status)
      assert.are.equal("h2", front:log()[1].alpn)
    end)

    it("retries: a 500 then a success, on the same connection", function()
      m:fault { path = "/v2/billing_groups", status = 500, count = 1, headers = H.RETRY_NOW }
      local c = client()
      assert.is_table(c:request("GET", "/billing_groups").data)
      local n, log = front:connections()
      assert.are.same({ 500, 200 }, { log[1].status, log[2].status })
      assert.are.equal(1, n)
    end)

    it("the pager walks every page", function()
      m:seed("billing_groups", 25)
      local items = client().billing_groups:list { page = { size = 10 } }:collect()
      assert.are.equal(25, #items)
      local n, log = front:connections()
      assert.are.equal(3, #log)
      assert.are.equal(1, n)
    end)

    it("telnyx.map at concurrency 32: one TCP connection carrying concurrent streams", function()
      m:latency(50)
      m:clear_stats()
      local c = client()
      local items = {}
      for i = 1, 96 do items[i] = i end
      local results, failures = telnyx.map(items, function(i)
        return c.access_ip_address:create { ip_address = ("198.51.100.%d"):format(i) }.id
      end, { concurrency = 32 })
      assert.are.same({}, failures)
      assert.are.equal(96, #results)
      local n, log = front:connections()
      assert.are.equal(96, #log)
      assert.are.equal(1, n, "telnyx.map opened more than one connection to the front")
      -- The front forwards each stream to the mock as it arrives: requests overlapping at the
      -- mock came as concurrent streams of that one connection.
      assert.is_true(m:stats().peak_in_flight >= 8, "peak in flight: " .. m:stats().peak_in_flight)
    end)
  end)

  describe("trust", function()
    for _, case in ipairs {
      { cert = "expired", says = "has expired" },
      { cert = "wrong_host", says = "is for another host name" },
      { cert = "unknown_ca", says = "is issued by an unknown CA" },
    } do
      it(case.cert .. ": an APIConnectionError that says so, not retried", function()
        local bad <close> = tls.front { backend = m.port, pki = pki, cert = case.cert }
        local c = telnyx.new { api_key = H.API_KEY, base_url = bad.url, ca_bundle = pki.ca, max_retries = 2 }
        local err = failure(c, "GET", "/billing_groups")
        assert.are.equal("APIConnectionError", err.type)
        assert.matches("TLS certificate not trusted", err.message, 1, true)
        assert.matches(case.says, err.message, 1, true)
        assert.are.equal(1, err.attempts)
        assert.are.equal(0, #bad:log(), "a request went through")
        assert.is_nil(tostring(err):find(H.API_KEY, 1, true))
      end)
    end

    it("the system's CAs alone do not trust the test CA", function()
      assert.matches("unknown CA %(not in the system's CA certificates", child(front.url))
    end)

    it("TELNYX_CA_BUNDLE names the bundle", function()
      assert.are.equal("ok", child(front.url, { TELNYX_CA_BUNDLE = pki.ca }))
    end)

    it("SSL_CERT_FILE and SSL_CERT_DIR are honoured as OpenSSL reads them", function()
      assert.are.equal("ok", child(front.url, { SSL_CERT_FILE = pki.ca }))
      assert.are.equal("ok", child(front.url, { SSL_CERT_DIR = pki.ca_dir }))
      -- each replaces its own half of the defaults: the file of the system with a directory set
      assert.matches("unknown CA", child(front.url, { SSL_CERT_DIR = pki.dir .. "/nothing" }))
    end)

    it("precedence: ca_bundle, then TELNYX_CA_BUNDLE, then SSL_CERT_FILE", function()
      local line = child(front.url, { TELNYX_CA_BUNDLE = pki.other_ca, SSL_CERT_FILE = pki.ca })
      assert.matches("unknown CA (not in " .. pki.other_ca .. " (TELNYX_CA_BUNDLE)", line, 1, true)
      -- the option over the variable, in this process
      local c = client { ca_bundle = pki.other_ca }
      assert.matches("(ca_bundle)", failure(c, "GET", "/billing_groups").message, 1, true)
      assert.is_table(client():request("GET", "/billing_groups").data)
    end)

    it("a ca_bundle that cannot be read is refused by telnyx.new", function()
      local ok, err = pcall(telnyx.new, { base_url = front.url, ca_bundle = pki.dir .. "/missing.pem" })
      assert.is_false(ok)
      assert.matches("telnyx.new: ca_bundle: cannot read .*missing%.pem", err)
      ok, err = pcall(telnyx.new, { base_url = front.url, ca_bundle = pki.dir })
      assert.is_false(ok)
      assert.matches("ca_bundle names a directory", err, 1, true)
      ok, err = pcall(telnyx.new, { base_url = front.url, ca_bundle = 42 })
      assert.matches("ca_bundle must be the path of a PEM file", err, 1, true)
      assert.matches("cannot load the CA certificates .*missing%.pem from SSL_CERT_FILE",
                     child(front.url, { SSL_CERT_FILE = pki.dir .. "/missing.pem" }))
    end)
  end)

  describe("TLS and plain HTTP on each other's ports", function()
    it("https:// to a plain HTTP server: fails at once, saying it answered in plain HTTP", function()
      local plain <close> = tls.raw_server("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
      local c = telnyx.new { api_key = H.API_KEY, base_url = plain.url, max_retries = 2 }
      local err = failure(c, "GET", "/billing_groups")
      assert.are.equal("APIConnectionError", err.type)
      assert.matches("answered in plain HTTP, not TLS: is it an http:// port?", err.message, 1, true)
      assert.are.equal(1, err.attempts)
    end)

    it("https:// to a plain HTTP server that waits: the connect timeout ends it, not retried", function()
      local c = telnyx.new { api_key = H.API_KEY, base_url = m.url:gsub("^http:", "https:"),
                             connect_timeout = 0.3, max_retries = 2 }
      local err = failure(c, "GET", "/billing_groups")
      assert.are.equal("APIConnectionTimeoutError", err.type)
      assert.matches("no TLS handshake from 127.0.0.1:" .. m.port .. " within 0.3 s", err.message, 1, true)
      assert.matches("plain http:// port", err.message, 1, true)
      assert.are.equal(1, err.attempts)
    end)

    it("http:// to a TLS server that sends an alert: says it is not HTTP, not retried", function()
      local alert <close> = tls.raw_server("\x15\x03\x03\x00\x02\x02\x46")
      local c = telnyx.new { api_key = H.API_KEY, base_url = alert.url:gsub("^https:", "http:"), max_retries = 2 }
      local err = failure(c, "GET", "/billing_groups")
      assert.matches("did not answer in HTTP: is it a TLS port%? %(use https://%)", err.message)
      assert.are.equal(1, err.attempts)
    end)

    it("http:// to a TLS server that closes: the message names the likely cause", function()
      local c = telnyx.new { api_key = H.API_KEY, base_url = front.url:gsub("^https:", "http:"), max_retries = 0 }
      local err = failure(c, "GET", "/billing_groups")
      assert.are.equal("APIConnectionError", err.type)
      assert.matches("if it is a TLS port, use https://", err.message, 1, true)
    end)
  end)
end)
