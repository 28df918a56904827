-- scripts/rotate-ip-allowlist.lua against a server that lies about its pages, and the summary
-- after a partial removal: no server field sizes the work (an absurd meta.total_pages is a
-- clear error, fast, with nothing changed), and the summary says exactly what was done.
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local scripts = require "spec.support.scripts"

local SCRIPT = cli.ROOT .. "/scripts/rotate-ip-allowlist.lua"
local API_KEY = "spec-key-rotate-hard-9a1d"
local ADDRESSES = "/v2/access_ip_address"

describe("scripts/rotate-ip-allowlist.lua hardening", function()
  local m, tmp

  setup(function()
    tmp = cli.tmpdir()
    m = mock.start { seed = 43 }
  end)
  teardown(function()
    if m then m:stop() end
    if tmp then cli.rmdir(tmp) end
  end)
  before_each(function() m:reset() end)

  local function rotate(args, file)
    local all = { table.unpack(args) }
    all[#all + 1] = cli.write_file(tmp .. "/allow.txt", file)
    return scripts.run { script = SCRIPT, key = API_KEY, url = m.url, args = all }
  end

  local function changes()
    local n = 0
    for _, r in ipairs(m:requests()) do
      if r.method == "POST" or r.method == "DELETE" then n = n + 1 end
    end
    return n
  end

  local function seed(values)
    for _, v in ipairs(values) do
      local status = m:request("POST", "/access_ip_address", { body = { ip_address = v } })
      assert.are.equal(200, status)
    end
    m:clear_requests()
  end

  describe("meta.total_pages", function()
    local lies = { { "1e9", 1e9 }, { "2^53", 2 ^ 53 }, { "-3", -3 }, { "2.5", 2.5 }, { "a string", "x" } }
    for _, lie in ipairs(lies) do
      it("of " .. lie[1] .. " is a clear error, at once, and nothing is changed", function()
        m:fault { method = "GET", path = ADDRESSES, status = 200, count = -1,
                  body = { data = { { id = "lie-1", ip_address = "192.0.2.50" } },
                           meta = { total_pages = lie[2], page_number = 1, page_size = 250 } } }
        for _, args in ipairs { { "--apply" }, { "--apply", "--json" } } do
          local r = rotate(args, "203.0.113.7\n")
          assert.is_false(r.timed_out)
          assert.are.equal(1, r.status, r.stderr)
          -- (a string trips the pager itself first: lua/telnyx/pager.lua names it there)
          if type(lie[2]) == "number" then assert.matches("total_pages", r.stderr, 1, true) end
          assert.are.equal(0, changes())
          -- a handful of reads, not one per claimed page
          assert.is_true(#m:requests() <= 4, #m:requests() .. " requests")
          m:clear_requests()
        end
      end)
    end
  end)

  describe("the summary after a partial removal", function()
    local function setup_partial()
      seed { "192.0.2.1", "192.0.2.2", "192.0.2.3" }
      -- the second DELETE fails (400: not retried)
      m:fault { method = "DELETE", path = ADDRESSES, status = 400, skip = 1, count = 1,
                body = { errors = { { code = "10005", title = "Invalid", detail = "delete refused by spec" } } } }
    end

    it("text: says how many stale entries were removed, of how many, and which failed", function()
      setup_partial()
      local r = rotate({ "--apply", "--concurrency", "1" }, "203.0.113.7\n")
      assert.are.equal(1, r.status, r.stderr)
      assert.is_nil(r.stdout:find("nothing was removed", 1, true), r.stdout)
      assert.matches("removed 2 of 3", r.stdout, 1, true)
      assert.matches("added 1 of 1", r.stdout, 1, true)
      assert.matches("delete refused by spec", r.stderr, 1, true)
    end)

    it("--json: lists what was added and removed, and the failure", function()
      setup_partial()
      local r = rotate({ "--apply", "--json", "--concurrency", "1" }, "203.0.113.7\n")
      assert.are.equal(1, r.status, r.stderr)
      local out = telnyx.json.decode(r.stdout)
      assert.is_false(out.applied)
      assert.are.same({ "203.0.113.7" }, out.added)
      assert.are.equal(2, #out.removed)
      assert.are.equal(3, #out.remove)
      assert.are.equal(1, #out.failures)
      assert.are.equal("remove", out.failures[1].action)
      local gone = {}
      for _, v in ipairs(out.removed) do gone[v] = true end
      assert.is_nil(gone[out.failures[1].entry], "a failed removal listed as removed")
    end)

    it("--json: nothing added or removed is [] (a plan-only run)", function()
      seed { "192.0.2.1" }
      local out = telnyx.json.decode(rotate({ "--json" }, "203.0.113.7\n").stdout)
      assert.are.same({}, out.added)
      assert.are.same({}, out.removed)
    end)
  end)
end)
