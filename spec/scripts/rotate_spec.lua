-- scripts/rotate-ip-allowlist.lua run as a real process against the mock API: the plan, make
-- before break, idempotence, bad lines, --json, the concurrency bound and the shared 429
-- pause. Every claim about what was sent is checked on the mock's request log.
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local scripts = require "spec.support.scripts"

local SCRIPT = cli.ROOT .. "/scripts/rotate-ip-allowlist.lua"
local API_KEY = "spec-key-rotate-5c1e9d" -- must never show up in any output
local ADDRESSES, RANGES = "/v2/access_ip_address", "/v2/access_ip_ranges"

describe("scripts/rotate-ip-allowlist.lua", function()
  local m, tmp

  setup(function()
    tmp = cli.tmpdir()
    m = mock.start{ seed = 21 }
  end)
  teardown(function()
    if m then m:stop() end
    if tmp then cli.rmdir(tmp) end
  end)
  before_each(function() m:reset() end)

  -- Runs the script. opts.file: the text of FILE (written to a temp file, passed last);
  -- opts.stdin, opts.env (merged over the API key and the mock's URL).
  local function rotate(args, opts)
    opts = opts or {}
    local all = { table.unpack(args) }
    if opts.file then all[#all + 1] = cli.write_file(tmp .. "/allow.txt", opts.file) end
    return scripts.run{ script = SCRIPT, key = API_KEY, url = m.url, args = all, env = opts.env,
                        stdin = opts.stdin }
  end

  -- --json output: exactly one line holding one object with exactly the contract's keys.
  local function json_of(r)
    assert.is_truthy(r.stdout:match("^[^\n]+\n$"), "expected one line on stdout, got: " .. r.stdout)
    local out = telnyx.json.decode(r.stdout)
    local keys = {}
    for k in pairs(out) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "add", "added", "applied", "failures", "keep", "remove", "removed" }, keys)
    return out
  end

  local function sorted(t)
    local copy = { table.unpack(t) }
    table.sort(copy)
    return copy
  end

  local function create(path, field, value)
    local status = m:request("POST", path:sub(4), { body = { [field] = value } })
    assert.are.equal(200, status, "seeding " .. value)
  end

  -- Puts entries in the account through the API (addresses, or blocks when they have a "/").
  local function seed(entries)
    for _, e in ipairs(entries) do
      if e:find("/", 1, true) then create(RANGES, "cidr_block", e) else create(ADDRESSES, "ip_address", e) end
    end
    m:clear_requests()
    m:clear_stats()
  end

  -- The account's entries as the API holds them, sorted.
  local function account()
    local out = {}
    for _, kind in ipairs{ { ADDRESSES, "ip_address" }, { RANGES, "cidr_block" } } do
      local status, body = m:request("GET", kind[1]:sub(4) .. "?page[size]=250")
      assert.are.equal(200, status)
      for _, item in ipairs(body.data) do out[#out + 1] = item[kind[2]] end
    end
    table.sort(out)
    return out
  end

  -- Logged API requests, optionally only those of one method.
  local function requests(method)
    local out = {}
    for _, r in ipairs(m:requests()) do
      if r.path:sub(1, 4) == "/v2/" and (method == nil or r.method == method) then out[#out + 1] = r end
    end
    return out
  end

  local function changes() return #requests("POST") + #requests("DELETE") end

  describe("command line", function()
    it("--help exits 0 with the usage on stdout, and sends nothing", function()
      local r = rotate{ "--help" }
      assert.are.equal(0, r.status)
      assert.matches("Usage: rotate%-ip%-allowlist%.lua", r.stdout)
      assert.matches("%-%-apply", r.stdout)
      assert.are.equal(0, #requests())
    end)

    local usage_cases = {
      { "no FILE", {} },
      { "an unknown option", { "--nope", "x" } },
      { "--concurrency 0", { "--concurrency", "0", "x" } },
      { "--concurrency not a number", { "--concurrency", "many", "x" } },
      { "two FILEs", { "a", "b" } },
    }
    for _, case in ipairs(usage_cases) do
      it("exits 2 on " .. case[1], function()
        local r = rotate(case[2])
        assert.are.equal(2, r.status, r.stderr)
        assert.are.equal("", r.stdout)
        assert.matches("rotate%-ip%-allowlist%.lua", r.stderr)
        assert.are.equal(0, #requests())
      end)
    end

    it("exits 2 when FILE cannot be read or TELNYX_API_KEY is not set", function()
      local r = rotate{ tmp .. "/no-such-file" }
      assert.are.equal(2, r.status)
      assert.matches("cannot read", r.stderr)
      r = rotate({}, { file = "10.0.0.1\n", env = { TELNYX_API_KEY = false } })
      assert.are.equal(2, r.status)
      assert.matches("TELNYX_API_KEY", r.stderr)
      assert.are.equal(0, #requests())
    end)

    it("refuses to apply an empty FILE unless --allow-empty", function()
      seed{ "192.0.2.10" }
      local r = rotate({ "--apply" }, { file = "# nothing here\n\n" })
      assert.are.equal(2, r.status)
      assert.matches("%-%-allow%-empty", r.stderr)
      assert.are.equal(0, #requests())
      r = rotate({ "--apply", "--allow-empty", "--json" }, { file = "" })
      assert.are.equal(0, r.status, r.stderr)
      assert.are.same({ "192.0.2.10" }, json_of(r).remove)
      assert.are.same({}, account())
    end)
  end)

  describe("FILE", function()
    it("names every bad line by its number, exits 2 and sends nothing", function()
      seed{ "192.0.2.10" }
      local r = rotate({ "--apply" }, { file = table.concat({
        "# allowlist",                -- 1
        "10.0.0.1",                   -- 2
        "10.0.0.256",                 -- 3: octet out of range
        "",                           -- 4
        "010.0.0.1   # office",       -- 5: leading zero
        "10.0.0.1/24",                -- 6: host bits set
        "2001:db8::1/129",            -- 7: prefix too long
        "1.2.3.4 5.6.7.8",            -- 8: two entries
        "fe80::1%eth0",               -- 9: zone index
        "gateway.example.com",        -- 10
        "2001:db8::/32  # fine",      -- 11
      }, "\n") .. "\n" })
      assert.are.equal(2, r.status)
      assert.are.equal("", r.stdout)
      for _, n in ipairs{ 3, 5, 6, 7, 8, 9, 10 } do
        assert.matches("line " .. n .. ":", r.stderr, 1, true)
      end
      for _, n in ipairs{ 1, 2, 4, 11 } do
        assert.is_nil(r.stderr:find("line " .. n .. ":", 1, true), "line " .. n .. " is fine")
      end
      assert.matches("10.0.0.0/24", r.stderr, 1, true) -- the network the typo meant
      assert.are.equal(0, #requests())
      assert.are.same({ "192.0.2.10" }, account())
    end)

    it("shows a bad line's control characters escaped, never raw on the terminal", function()
      seed{ "192.0.2.10" }
      local r = rotate({ "--apply" }, { file = "10.0.0.1\n\27[2Jevil\r\n" })
      assert.are.equal(2, r.status)
      assert.matches("line 2: '\\x1b[2Jevil'", r.stderr, 1, true)
      assert.is_nil(r.stderr:find("[\27\r]"), r.stderr)
      assert.are.equal(0, #requests())
    end)

    it("reads stdin for '-', with comments, blank lines, CRLF and duplicates in other spellings", function()
      local r = rotate({ "--json", "-" }, { stdin = "# head\r\n203.0.113.7 # vpn\r\n\r\n" ..
        "2001:DB8:0:0:0:0:0:1\r\n2001:db8::1\r\n198.51.100.0/24\r\n203.0.113.7\r\n" })
      assert.are.equal(0, r.status, r.stderr)
      assert.are.same({ "203.0.113.7", "2001:db8::1", "198.51.100.0/24" }, json_of(r).add)
    end)
  end)

  describe("plan", function()
    it("without --apply prints the plan and changes nothing", function()
      seed{ "192.0.2.10", "192.0.2.11", "10.1.0.0/16" }
      local before = account()
      local r = rotate({}, { file = "192.0.2.10\n198.51.100.7\n172.16.0.0/12\n" })
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("2 to add, 2 to remove, 1 to keep", r.stdout, 1, true)
      for _, e in ipairs{ "198.51.100.7", "172.16.0.0/12", "192.0.2.11", "10.1.0.0/16", "192.0.2.10" } do
        assert.matches(e, r.stdout, 1, true)
      end
      assert.matches("nothing was changed", r.stdout, 1, true)
      assert.are.equal(0, changes())
      assert.are.same(before, account())
    end)

    it("--json has the exact keys, [] for empty lists and applied=false", function()
      seed{ "192.0.2.10" }
      local r = rotate({ "--json" }, { file = "192.0.2.10\n" })
      assert.are.equal(0, r.status, r.stderr)
      local out = json_of(r)
      assert.are.same({}, out.add)
      assert.are.same({}, out.remove)
      assert.are.same({ "192.0.2.10" }, out.keep)
      assert.are.equal(false, out.applied)
      assert.are.same({}, out.failures)
      assert.matches('"add":[]', r.stdout, 1, true)
      assert.matches('"failures":[]', r.stdout, 1, true)
      assert.are.equal("", r.stderr)
    end)

    it("--help's --json line names every key --json prints", function()
      local r = rotate({ "--help" })
      assert.are.equal(0, r.status, r.stderr)
      local line = assert(r.stdout:match("\n%s*%-%-json%s+([^\n]+)"), r.stdout)
      local named = {}
      for key in assert(line:match("{([^}]*)}"), line):gmatch("[%w_]+") do named[#named + 1] = key end
      table.sort(named)
      assert.are.same({ "add", "added", "applied", "failures", "keep", "remove", "removed" }, named)
    end)
  end)

  describe("--apply", function()
    it("reads a long allowlist in two rounds of page requests, and again in one after adding", function()
      m:seed("access_ip_address", 600) -- 3 pages of 250
      m:clear_requests()
      m:latency(50) -- rounds of requests stand apart in the log
      local r = rotate({ "--apply", "--json" }, { file = "192.0.2.77\n" })
      m:latency(0)
      assert.are.equal(0, r.status, r.stderr)
      local out = json_of(r)
      assert.are.equal(600, #out.remove)
      assert.are.same({ "192.0.2.77" }, out.add)
      local gets = requests("GET") -- before account() reads the lists itself
      assert.are.same({ "192.0.2.77" }, account())
      local function page_of(req) return req.path:match("[%w_]+$") .. " " .. req.query_params["page[number]"] end
      local function names(from, to)
        local out_ = {}
        for i = from, to do out_[#out_ + 1] = page_of(gets[i]) end
        return sorted(out_)
      end
      assert.are.equal(8, #gets)
      -- first read: page 1 of each list, then the other pages of the addresses
      assert.are.same({ "access_ip_address 1", "access_ip_ranges 1" }, names(1, 2))
      assert.are.same({ "access_ip_address 2", "access_ip_address 3" }, names(3, 4))
      -- read before removal: 601 entries expected, so every page at once, in one round
      assert.are.same({ "access_ip_address 1", "access_ip_address 2", "access_ip_address 3",
                        "access_ip_ranges 1" }, names(5, 8))
      local last_start, first_end = 0, math.huge
      for i = 5, 8 do
        last_start = math.max(last_start, gets[i].t_start_ms)
        first_end = math.min(first_end, gets[i].t_end_ms)
      end
      assert.is_true(last_start < first_end, "the pages were not asked for at once")
    end)

    local FILE = "# wanted\n192.0.2.10\n203.0.113.7\n2001:DB8::A\n198.51.100.0/24\n2001:db8:1::/48\n"
    local WANTED = sorted{ "192.0.2.10", "203.0.113.7", "2001:db8::a", "198.51.100.0/24", "2001:db8:1::/48" }

    it("converges, and a second run sends no POST or DELETE", function()
      seed{ "192.0.2.10", "192.0.2.99", "10.1.0.0/16" }
      local r = rotate({ "--apply", "--json", "--description", "rotated by spec" }, { file = FILE })
      assert.are.equal(0, r.status, r.stderr)
      local out = json_of(r)
      assert.is_true(out.applied)
      assert.are.same(sorted{ "203.0.113.7", "2001:db8::a", "198.51.100.0/24", "2001:db8:1::/48" }, sorted(out.add))
      assert.are.same(sorted{ "192.0.2.99", "10.1.0.0/16" }, sorted(out.remove))
      assert.are.same({ "192.0.2.10" }, out.keep)
      assert.are.same(WANTED, account())
      for _, req in ipairs(requests("POST")) do
        assert.are.equal("rotated by spec", telnyx.json.decode(req.body).description)
      end

      m:clear_requests()
      r = rotate({ "--apply", "--json" }, { file = FILE })
      assert.are.equal(0, r.status, r.stderr)
      out = json_of(r)
      assert.are.same({}, out.add)
      assert.are.same({}, out.remove)
      assert.are.same(WANTED, sorted(out.keep))
      assert.is_true(out.applied)
      assert.are.equal(0, changes())
      assert.is_true(#requests("GET") >= 2)

      r = rotate({ "--apply" }, { file = FILE })
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("0 to add, 0 to remove, 5 to keep", r.stdout, 1, true)
      assert.matches("Nothing to change", r.stdout, 1, true)
      assert.are.equal(0, changes())
    end)

    it("sends CIDR blocks to access_ip_ranges and addresses to access_ip_address", function()
      local r = rotate({ "--apply" }, { file = FILE })
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("Applied", r.stdout)
      local posted = {}
      for _, req in ipairs(requests("POST")) do
        local body = telnyx.json.decode(req.body)
        if req.path == RANGES then
          assert.is_truthy(body.cidr_block and body.cidr_block:find("/", 1, true), req.body)
          assert.is_nil(body.ip_address)
          posted[#posted + 1] = body.cidr_block
        else
          assert.are.equal(ADDRESSES, req.path)
          assert.is_truthy(body.ip_address and not body.ip_address:find("/", 1, true), req.body)
          assert.is_nil(body.cidr_block)
          posted[#posted + 1] = body.ip_address
        end
      end
      assert.are.same(WANTED, sorted(posted)) -- sent in normal form
    end)

    it("treats an entry the account holds (in any spelling, even twice) as existing", function()
      seed{ "2001:db8::a", "2001:DB8:0::A", "198.51.100.0/24" }
      local r = rotate({ "--apply", "--json" }, { file = "2001:db8::a\n198.51.100.0/24\n" })
      assert.are.equal(0, r.status, r.stderr)
      local out = json_of(r)
      assert.are.same({}, out.add)
      assert.are.same({}, out.remove)
      assert.are.same({ "2001:db8::a", "198.51.100.0/24" }, out.keep)
      assert.are.equal(0, changes())
    end)

    it("counts a 422 'already exists' as done and re-reads the stale set before removing", function()
      seed{ "203.0.113.7", "192.0.2.99" }
      -- The first read of the addresses misses both entries: the script POSTs 203.0.113.7,
      -- which the API refuses as a duplicate, and only the re-read shows 192.0.2.99 as stale.
      m:fault{ method = "GET", path = ADDRESSES, count = 1, status = 200, content_type = "application/json",
               body = '{"data":[],"meta":{"page_number":1,"page_size":250,"total_pages":0,"total_results":0}}' }
      local r = rotate({ "--apply", "--json" }, { file = "203.0.113.7\n" })
      assert.are.equal(0, r.status, r.stderr)
      local out = json_of(r)
      assert.is_true(out.applied)
      assert.are.same({}, out.failures)
      local posts = requests("POST")
      assert.are.equal(1, #posts)
      assert.are.equal(422, posts[1].status)
      local deletes = requests("DELETE")
      assert.are.equal(1, #deletes)
      assert.are.same({ "192.0.2.99" }, out.remove)
      assert.are.same({ "203.0.113.7" }, account())
    end)

    it("removes nothing when an addition fails, lists the failures, and a rerun converges", function()
      seed{ "192.0.2.10", "192.0.2.99", "10.1.0.0/16" }
      local before = account()
      m:fault{ method = "POST", path = ADDRESSES, status = 400, count = 2,
               body = { errors = { { code = "10005", title = "Invalid parameter", detail = "rejected by spec" } } } }
      local r = rotate({ "--apply", "--json" }, { file = FILE })
      assert.are.equal(1, r.status, r.stderr)
      local out = json_of(r)
      assert.is_false(out.applied)
      assert.are.equal(2, #out.failures)
      for _, f in ipairs(out.failures) do
        assert.are.equal("add", f.action)
        assert.are.equal(400, f.status)
        assert.matches("rejected by spec", f.error, 1, true)
        assert.is_truthy(f.entry == "203.0.113.7" or f.entry == "2001:db8::a", f.entry)
      end
      assert.are.equal(0, #requests("DELETE"))
      assert.matches("rejected by spec", r.stderr, 1, true)
      -- Every entry that was there still is (make before break).
      local now = {}
      for _, e in ipairs(account()) do now[e] = true end
      for _, e in ipairs(before) do assert.is_true(now[e], e .. " was removed") end

      m:clear_faults()
      r = rotate({ "--apply", "--json" }, { file = FILE })
      assert.are.equal(0, r.status, r.stderr)
      assert.is_true(json_of(r).applied)
      assert.are.same(WANTED, account())
    end)

    it("keeps at most --concurrency requests in flight", function()
      local lines = {}
      for i = 1, 16 do lines[i] = "198.18.0." .. i end
      m:latency(20)
      m:clear_stats()
      local r = rotate({ "--apply", "--concurrency", "4" }, { file = table.concat(lines, "\n") })
      assert.are.equal(0, r.status, r.stderr)
      local stats = m:stats()
      assert.is_true(stats.peak_in_flight <= 4, "peak " .. stats.peak_in_flight)
      assert.is_true(stats.peak_in_flight >= 2, "peak " .. stats.peak_in_flight)
      assert.are.equal(16, #requests("POST"))
    end)

    it("absorbs a 429 burst, pausing every task until the retry-after has passed", function()
      local lines = {}
      for i = 1, 12 do lines[i] = "198.18.1." .. i end
      m:latency(20)
      m:fault{ method = "POST", path = ADDRESSES, status = 429, skip = 3, count = 2,
               headers = { ["retry-after"] = "1" } }
      local r = rotate({ "--apply", "--json", "--concurrency", "4" }, { file = table.concat(lines, "\n") })
      assert.are.equal(0, r.status, r.stderr)
      assert.is_true(json_of(r).applied)
      local log = requests()
      local limited = {}
      for _, req in ipairs(log) do
        if req.status == 429 then limited[#limited + 1] = req end
      end
      assert.are.equal(2, #limited)
      -- No request started while a pause ran: after each 429 was answered and before its
      -- retry-after (1 s) was over. The 100 ms margins cover requests already on the wire.
      for _, hit in ipairs(limited) do
        for _, req in ipairs(log) do
          local t = req.t_start_ms
          assert.is_false(t > hit.t_end_ms + 100 and t < hit.t_end_ms + 900,
            ("%s %s started %d ms after a 429"):format(req.method, req.path, t - hit.t_end_ms))
        end
      end
      local want = sorted(lines)
      assert.are.same(want, account())
    end)

    it("exits 1 with a 'read' failure, changing nothing, when the allowlist cannot be read", function()
      seed{ "192.0.2.99" }
      m:fault{ method = "GET", path = RANGES, status = 500, count = -1, headers = { ["x-should-retry"] = "false" } }
      local r = rotate({ "--apply", "--json" }, { file = "203.0.113.7\n" })
      assert.are.equal(1, r.status)
      local out = json_of(r)
      assert.is_false(out.applied)
      assert.are.equal(1, #out.failures)
      assert.are.equal("read", out.failures[1].action)
      assert.are.equal(500, out.failures[1].status)
      assert.is_nil(out.failures[1].entry) -- written as null: a null field reads as nil
      assert.are.same({ "entry" }, telnyx.json.nulls(out.failures[1]))
      assert.matches("InternalServerError", r.stderr, 1, true)
      assert.are.equal(0, changes())
      r = rotate({ "--apply" }, { file = "203.0.113.7\n" })
      assert.are.equal(1, r.status)
      assert.are.equal("", r.stdout)
      assert.are.equal(0, changes())
    end)

    it("on Ctrl-C says what was done and what was not, removes nothing, and exits 1", function()
      seed{ "192.0.2.99" }
      local lines = {}
      for i = 1, 12 do lines[i] = "198.18.2." .. i end
      local file = cli.write_file(tmp .. "/interrupt.txt", table.concat(lines, "\n"))
      m:latency(200)
      local r = cli.shell(("%s %s --apply --json --concurrency 2 %s & pid=$!; sleep 0.7; kill -INT $pid; wait $pid")
        :format(cli.quote(cli.HOST), cli.quote(SCRIPT), cli.quote(file)),
        { env = { TELNYX_API_KEY = API_KEY, TELNYX_BASE_URL = m.url } })
      assert.are.equal(1, r.status, r.stderr)
      assert.matches("interrupted", r.stderr)
      local out = json_of(r)
      assert.is_false(out.applied)
      assert.is_true(#out.failures > 0)
      -- the additions in flight (at most 2) are "outcome unknown"; the rest never started
      local unknown = 0
      for _, f in ipairs(out.failures) do
        assert.are.equal("add", f.action, r.stderr)
        if f.error == "interrupted: outcome unknown" then unknown = unknown + 1
        else assert.are.equal("interrupted", f.error) end
      end
      assert.is_true(unknown >= 1 and unknown <= 2, r.stderr)
      assert.matches("outcome unknown (the request was in flight; the API may have applied it): ",
                     r.stderr, 1, true)
      m:latency(0)
      assert.are.equal(0, #requests("DELETE"))
      local now = {}
      for _, e in ipairs(account()) do now[e] = true end
      assert.is_true(now["192.0.2.99"])
    end)
  end)
end)
