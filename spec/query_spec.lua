-- Query strings (src/query.c) as the mock receives them: deepObject names, flat keys, arrays,
-- booleans, nesting, percent-encoding, key order, and the errors for what cannot be encoded.
-- Most requests go to a probe path the mock answers with a fault rule, so only the encoding
-- is under test; list calls check the same encoding through the pager.
local R = require "spec.support.resources"
local telnyx = require "telnyx"

local PROBE = "/query-probe"

describe("query encoding", function()
  local env = R.env()

  lazy_setup(function()
    env.m:fault { path = "/v2" .. PROBE, count = -1, status = 200, body = { ok = true } }
  end)

  -- The raw query string and the decoded parameters the mock received for `query`.
  local function sent(query)
    local req = R.one(env.m, env.client.request, env.client, "GET", PROBE, { query = query })
    assert.are.equal("/v2" .. PROBE, req.path)
    return req.query, req.query_params
  end

  local function refused(query)
    return R.refused(env.m, env.client.request, env.client, "GET", PROBE, { query = query })
  end

  it("encodes the contract's example exactly, keys sorted", function()
    local raw = sent { filter = { ip_address = "203.0.113.7" }, page = { number = 2, size = 50 },
                       sort = "-created_at" }
    assert.are.equal("filter%5Bip_address%5D=203.0.113.7&page%5Bnumber%5D=2&page%5Bsize%5D=50"
                     .. "&sort=-created_at", raw)
  end)

  it("sends the same string for a list through the pager", function()
    -- this list takes no sort in the spec: sent as an unchecked extra
    local p = env.client.access_ip_address:list({ filter = { ip_address = "203.0.113.7" },
                                                  page = { number = 2, size = 50 } },
                                                { extra_query = { sort = "-created_at" } })
    local req = R.one(env.m, p.collect, p)
    assert.are.equal("/v2/access_ip_address", req.path)
    assert.are.equal("filter%5Bip_address%5D=203.0.113.7&page%5Bnumber%5D=2&page%5Bsize%5D=50"
                     .. "&sort=-created_at", req.query)
  end)

  it("sends every pair sorted by name, whatever the table order", function()
    local query = { zeta = 1, alpha = 2, ["filter[b]"] = 3, filter = { a = 4, c = { d = 5 } }, page = { size = 6 },
                    Beta = 7, ["a b"] = 8 }
    local raw, params = sent(query)
    local names = {}
    for pair in raw:gmatch("[^&]+") do
      names[#names + 1] = pair:match("^([^=]*)"):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    end
    local sorted = R.copy(names)
    table.sort(sorted)
    assert.are.same(sorted, names)
    assert.are.same({ "Beta", "a b", "alpha", "filter[a]", "filter[b]", "filter[c][d]", "page[size]", "zeta" },
                    R.sorted_keys(params))
  end)

  it("accepts flat bracket keys, alone and mixed with nested tables", function()
    assert.are.equal("page%5Bsize%5D=50", (sent { ["page[size]"] = 50 }))
    assert.are.equal("filter%5Bip_address%5D=x&page%5Bnumber%5D=2&page%5Bsize%5D=50",
                     (sent { page = { number = 2 }, ["page[size]"] = 50, ["filter[ip_address]"] = "x" }))
  end)

  it("joins array values with commas", function()
    local raw, params = sent { filter = { tag = { "a", "b", "c" }, n = { 1, 2, 3 } } }
    assert.are.equal("filter%5Bn%5D=1%2C2%2C3&filter%5Btag%5D=a%2Cb%2Cc", raw)
    assert.are.equal("a,b,c", params["filter[tag]"])
  end)

  it("sends booleans as words and numbers as written", function()
    assert.are.equal("filter%5Bactive%5D=true&filter%5Bexpired%5D=false",
                     (sent { filter = { active = true, expired = false } }))
    assert.are.equal("a=-3&b=1.5&c=250&d=0", (sent { a = -3, b = 1.5, c = 250, d = 0 }))
  end)

  it("nests three levels deep", function()
    assert.are.equal("filter%5Bcidr_block%5D%5Bcontains%5D=10.0",
                     (sent { filter = { cidr_block = { contains = "10.0" } } }))
  end)

  it("filters a list three levels deep", function()
    env.m:reset(R.MOCK_SEED)
    env.m:fault { path = "/v2" .. PROBE, count = -1, status = 200, body = { ok = true } }
    local ranges = env.client.access_ip_ranges
    for _, cidr in ipairs({ "10.1.0.0/16", "10.2.0.0/16", "192.0.2.0/24" }) do ranges:create { cidr_block = cidr } end
    local p = ranges:list { filter = { cidr_block = { startswith = "10." } } }
    local reqs, ok, items = R.sent(env.m, p.collect, p)
    assert.is_true(ok, tostring(items))
    assert.are.equal("filter%5Bcidr_block%5D%5Bstartswith%5D=10.&page%5Bnumber%5D=1", reqs[1].query)
    local got = {}
    for i, item in ipairs(items) do got[i] = item.cidr_block end
    assert.are.same({ "10.1.0.0/16", "10.2.0.0/16" }, got)
  end)

  it("percent-encodes keys and values: spaces, &, =, +, /, unicode; leaves - . _ ~ alone", function()
    assert.are.equal("q=a%20b%26c%3Dd%2Be%2Ff", (sent { q = "a b&c=d+e/f" }))
    assert.are.equal("q=%C3%A9t%C3%A9%20%E2%98%8E", (sent { q = "\u{e9}t\u{e9} \u{260e}" }))
    assert.are.equal("q=-._~AZaz09", (sent { q = "-._~AZaz09" }))
    assert.are.equal("a%20b%26c=1&filter%5B%C3%BC%3D%5D=2", (sent { ["a b&c"] = 1, filter = { ["\u{fc}="] = 2 } }))
    assert.are.equal("q=%25%3F%23%5B%5D%22%27%0A%00", (sent { q = "%?#[]\"'\n\0" }))
  end)

  it("round-trips random keys and values: the mock decodes exactly what was given", function()
    local alphabet = { "a", "Z", "0", " ", "&", "=", "+", "%", "?", "#", "/", ",", "-", "~", "\u{e9}",
                       "\u{1F4DE}", "[", "]" }
    local seed = 12345
    local function rand(n) -- a small LCG, so every run sends the same strings
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local function word()
      local out = {}
      for i = 1, rand(8) do out[i] = alphabet[rand(#alphabet)] end
      return table.concat(out)
    end
    for _ = 1, 40 do
      local query, want = { filter = {} }, {}
      for _ = 1, rand(4) do
        local k, v = word():gsub("[%[%]]", ""), word()
        if k ~= "" then
          query[k], want[k] = v, v
          query.filter[k], want["filter[" .. k .. "]"] = v, v
        end
      end
      local _, params = sent(query)
      assert.are.same(want, params)
    end
  end)

  it("sends no query string for an empty table", function()
    assert.are.equal("", (sent {}))
    assert.are.equal("", (sent { filter = {} }))
  end)

  it("raises before sending for values it cannot encode, naming the parameter", function()
    local err = refused { filter = { name = function() end } }
    assert.truthy(err:find("query parameter 'filter[name]' cannot be a function", 1, true), err)
    err = refused { filter = { tag = { "a", {} } } }
    assert.truthy(err:find("'filter[tag]' cannot be a table", 1, true), err)
    err = refused { page = { size = coroutine.create(function() end) } }
    assert.truthy(err:find("'page[size]' cannot be a thread", 1, true), err)
  end)

  it("raises before sending for keys that are not strings", function()
    local err = refused { [1] = "x" }
    assert.truthy(err:find("query parameter names must be strings, got a number key", 1, true), err)
    err = refused { filter = { [true] = "x" } }
    assert.truthy(err:find("got a boolean key in filter", 1, true), err)
  end)

  it("raises before sending for nesting far deeper than the API uses", function()
    local deep = "x"
    for _ = 1, 12 do deep = { k = deep } end
    local err = refused { filter = deep }
    assert.truthy(err:find("nested too deep", 1, true), err)
  end)

  it("a list with a value it cannot encode raises at the first fetch, sending nothing", function()
    local p = env.client.billing_groups:list({}, { extra_query = { filter = { name = function() end } } })
    local err = R.refused(env.m, p.collect, p)
    assert.truthy(tostring(err):find("'filter[name]' cannot be a function", 1, true), tostring(err))
    assert.is_false(telnyx.is_error(err))
  end)
end)
