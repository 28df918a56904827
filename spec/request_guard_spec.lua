-- What a request may carry: paths that cannot leave the base path (no dot segment, in any
-- spelling, in a path or an id), and headers that cannot change the request's framing or
-- connection (a Content-Length of our own would leave the body on a kept-alive connection).
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

describe("request guards", function()
  local m

  setup(function() m = mock.start { seed = 22 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  describe("dot segments", function()
    local paths = {
      "/echo/../../x", "/./x", "/billing_groups/..", "/billing_groups/.", "/a/%2e%2e/x",
      "/a/%2E%2E/x", "/a/.%2e/x", "/a/%2e./x", "/a/%2e/x", "/..", "/a/../", "/a/./b",
    }
    for _, path in ipairs(paths) do
      it("client:request refuses " .. path .. " and sends nothing", function()
        local c = H.client(m)
        local err = H.failure(c.request, c, "GET", path)
        assert.matches("dot segment", tostring(err), 1, true)
        assert.is_truthy(tostring(err):find(path, 1, true), tostring(err))
        assert.are.same({}, H.requests(m))
      end)
    end

    it("keeps paths whose segments only contain dots among other characters", function()
      local c = H.client(m)
      m:fault { path = "/v2/a/..b/.c./x.y", status = 200, body = { data = {} } }
      assert.is_table(c:request("GET", "/a/..b/.c./x.y").data)
      local reqs = H.requests(m)
      assert.are.equal("/v2/a/..b/.c./x.y", reqs[#reqs].path)
    end)

    for _, id in ipairs { "..", "." } do
      it("an id of " .. id .. " is refused and nothing is sent", function()
        local c = H.client(m)
        local err = H.failure(c.billing_groups.retrieve, c.billing_groups, id)
        assert.matches("an id cannot be '" .. id .. "'", tostring(err), 1, true)
        assert.matches("dot segment", tostring(err), 1, true)
        assert.are.same({}, H.requests(m))
      end)
    end

    for _, id in ipairs { "%2e%2e", "../x", "..%2f", ".%2E", "a/..", "..." } do
      it("an id of " .. id .. " stays one segment under the resource", function()
        local c = H.client(m)
        pcall(c.billing_groups.retrieve, c.billing_groups, id)
        local reqs = H.requests(m)
        assert.are.equal(1, #reqs)
        local raw = reqs[1].path
        assert.are.equal("/v2/billing_groups/", raw:sub(1, #"/v2/billing_groups/"), raw)
        local seg = raw:sub(#"/v2/billing_groups/" + 1)
        assert.is_nil(seg:find("/", 1, true), raw)
        -- no spelling of a dot segment, even once a server decodes %XX
        local decoded = seg:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
        assert.is_true(decoded ~= "." and decoded ~= "..", raw)
      end)
    end
  end)

  describe("framing and connection headers", function()
    local names = {
      "Content-Length", "content-length", "Transfer-Encoding", "Host", "Connection", "Expect",
      "Upgrade", "TE", "Keep-Alive", "Trailer", "Proxy-Connection", "Proxy-Authorization",
    }
    for _, name in ipairs(names) do
      it("per-call " .. name .. " is refused, naming it", function()
        local c = H.client(m)
        local err = H.failure(c.request, c, "POST", "/billing_groups",
                              { body = { name = "x" }, headers = { [name] = "0" } })
        assert.is_truthy(tostring(err):find(name, 1, true), tostring(err))
        assert.matches("may not be set", tostring(err), 1, true)
        assert.are.same({}, H.requests(m))
      end)

      it("client " .. name .. " is refused by telnyx.new, naming it", function()
        local ok, err = pcall(telnyx.new, { api_key = H.API_KEY, base_url = m.url,
                                             headers = { [name] = "0" } })
        assert.is_false(ok)
        assert.is_truthy(tostring(err):find(name, 1, true), tostring(err))
      end)
    end

    for _, header in ipairs { "Content-Length: 0", "Transfer-Encoding: chunked" } do
      local name = header:match("^[^:]+")
      it("TELNYX_CUSTOM_HEADERS with " .. name .. " is refused, naming it", function()
        local r = H.child(m, [[
          local ok, err = pcall(require("telnyx").new)
          io.write(tostring(ok), " ", tostring(err))
        ]], { TELNYX_CUSTOM_HEADERS = "X-Ok: 1\n" .. header })
        assert.matches("^false .*" .. name:gsub("%-", "%%-"), r.stdout)
      end)
    end

    it("the body of a request never reaches the next request on a kept-alive connection", function()
      local c = H.client(m)
      pcall(c.request, c, "POST", "/billing_groups",
            { body = { name = "smuggled" }, headers = { ["Content-Length"] = "0" } })
      c:request("GET", "/billing_groups")
      for _, r in ipairs(H.requests(m)) do
        assert.is_truthy(r.path:find("^/v2/billing_groups"), r.path)
      end
    end)
  end)
end)
