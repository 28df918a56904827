-- Hostile servers: what the client does when the API misbehaves, driven by the mock's fault
-- injection (spec/support/mock.lua). Every failure is an error object of the right type with a
-- readable one-line message; nothing crashes; waits are bounded; a bulk run (telnyx.map) keeps
-- what succeeded and lists what failed; Ctrl-C stops a bulk run and says what was not done.
-- Scenarios that could hang run in a child process, which cli.run kills after its timeout.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

local PATH = "/v2/billing_groups"

-- Asserts that `err` is an error object of type `kind` whose tostring is one readable line.
local function assert_error(err, kind)
  assert.is_true(telnyx.is_error(err), "not an error object: " .. tostring(err))
  assert.are.equal(kind, err.type, tostring(err))
  assert.is_string(err.message)
  local line = tostring(err)
  assert.is_nil(line:find("[\r\n]"), "more than one line: " .. line)
  assert.is_true(#line < 1024, "a line of " .. #line .. " bytes")
  assert.is_truthy(utf8.len(line), "not UTF-8: " .. line)
  assert.is_nil(line:find(H.API_KEY, 1, true), "the key in the message")
  -- a script can print it as JSON
  assert.is_string(telnyx.json.encode { error = line })
  return err
end

local function get(client, opts)
  return H.failure(client.request, client, "GET", "/billing_groups", opts)
end

-- How many of the logged requests of PATH got `action` as their fault.
local function faulted(m, action)
  local n = 0
  for _, r in ipairs(H.requests(m, PATH)) do
    if r.fault == action then n = n + 1 end
  end
  return n
end

describe("hostile servers", function()
  local m

  setup(function() m = mock.start { seed = 23 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  describe("no answer at all", function()
    it("connection refused: APIConnectionError after max_retries, without a status", function()
      local c = telnyx.new { api_key = H.API_KEY, max_retries = 1,
                             base_url = ("http://127.0.0.1:%d/v2"):format(H.closed_port()) }
      local err = assert_error(get(c), "APIConnectionError")
      assert.is_nil(err.status)
      assert.are.equal(2, err.attempts)
      assert.matches("[Cc]onnect", err.message)
    end)

    for _, action in ipairs { "reset", "close", "close_mid_body", "truncated_chunked" } do
      it(action .. ": APIConnectionError after the retries, and the client still works after", function()
        m:fault { path = PATH, action = action, count = -1 }
        local c = H.client(m, { max_retries = 1 })
        local err = assert_error(get(c), "APIConnectionError")
        assert.is_nil(err.status)
        assert.are.equal(2, err.attempts)
        assert.is_true(faulted(m, action) >= 2)
        m:clear_faults()
        assert.is_table(c:request("GET", "/billing_groups").data)
      end)
    end

    it("a server that never answers: a timeout per attempt, and a bounded total with retries", function()
      m:fault { path = PATH, action = "hang", count = -1 }
      local code = [[
        local telnyx = require "telnyx"
        local out = {}
        for _, retries in ipairs { 0, 2 } do
          local c = telnyx.new { timeout = 0.3, max_retries = retries }
          local ok, err = pcall(c.request, c, "GET", "/billing_groups")
          out[#out + 1] = { ok = ok, type = err.type, attempts = err.attempts, line = tostring(err) }
        end
        io.write(telnyx.json.encode(out))
      ]]
      local r = H.child(m, code)
      assert.is_false(r.timed_out, "the client waited forever")
      assert.are.equal(0, r.status, r.stderr)
      local out = telnyx.json.decode(r.stdout)
      for i, attempts in ipairs { 1, 3 } do
        assert.is_false(out[i].ok)
        assert.are.equal("APIConnectionTimeoutError", out[i].type)
        assert.are.equal(attempts, out[i].attempts)
        assert.matches("timed out after 0%.3 s", out[i].line)
      end
      assert.are.equal(4, faulted(m, "hang"))
    end)
  end)

  describe("odd answers", function()
    it("a 10 MB body (under HTTP_MAX_BODY, 64 MB) is read and decoded whole", function()
      m:fault { path = PATH, action = "huge_body" }
      local page = H.client(m):request("GET", "/billing_groups")
      assert.are.equal(10240, #page.data)
      assert.are.equal(string.rep("x", 1022), page.data[10240])
    end)

    it("JSON nested 100,000 deep: APIStatusError naming the nesting limit, not retried", function()
      m:fault { path = PATH, action = "deep_json", count = -1 }
      local err = assert_error(get(H.client(m)), "APIStatusError")
      assert.are.equal(200, err.status)
      assert.matches("nested deeper than 1000", err.message)
      assert.are.equal(1, err.attempts)
    end)

    it("invalid UTF-8 in a JSON string: APIStatusError naming the byte, the message still UTF-8", function()
      m:fault { path = PATH, action = "invalid_utf8" }
      local err = assert_error(get(H.client(m)), "APIStatusError")
      assert.matches("invalid UTF%-8 in a string at byte %d+", err.message)
      assert.matches("body starts: {", err.message)
    end)

    it("a JSON body that is not JSON: APIStatusError quoting its start", function()
      m:fault { path = PATH, action = "bad_json" }
      local err = assert_error(get(H.client(m)), "APIStatusError")
      assert.matches("invalid JSON in the response", err.message)
      assert.matches("oops", err.message)
    end)

    it("an HTML 502 page: InternalServerError with the page as one readable line", function()
      m:fault { path = PATH, action = "html_502", count = -1 }
      local err = assert_error(get(H.client(m, { max_retries = 0 })), "InternalServerError")
      assert.are.equal(502, err.status)
      assert.matches("502 Bad Gateway", err.message)
    end)

    it("headers without a body: nil from a call, a clear error from a list", function()
      m:fault { path = PATH, action = "headers_only", count = 2 }
      local c = H.client(m)
      assert.is_nil(c:request("GET", "/billing_groups"))
      local ok, err = pcall(function()
        for _ in c.billing_groups:list() do end
      end)
      assert.is_false(ok)
      assert.is_true(telnyx.is_error(err, "APIStatusError"), tostring(err))
      assert.are.equal("GET", err.method)
      assert.matches("list response has no data array", err.message)
      assert.matches("^APIStatusError.* GET /v2/billing_groups", tostring(err))
    end)

    -- A regression: such a body used to leave the call's stack one slot short, so the retry
    -- ran with its call object unanchored (a use after free once the collector ran).
    it("an error status whose JSON body is a bare scalar: an error object, retried without harm", function()
      local c = H.client(m)
      for _, body in ipairs { "null", "5", '"down"', "true", "[]", "{}" } do
        m:fault { path = PATH, status = 503, body = body, content_type = "application/json",
                  count = 2, headers = H.RETRY_NOW }
        local results, failures = telnyx.map({ 1, 2, 3, 4 }, function(i)
          if i == 1 then return c:request("GET", "/billing_groups").data end
          for _ = 1, 5 do -- the collector runs while task 1 waits to retry
            collectgarbage()
            c:request("GET", "/access_ip_ranges")
          end
          return i
        end, { concurrency = 4 })
        assert.are.same({}, failures)
        assert.is_table(results[1], body)
        m:clear_faults()
        m:fault { path = PATH, status = 503, body = body, content_type = "application/json" }
        local err = assert_error(get(c, { max_retries = 0 }), "InternalServerError")
        assert.are.same({}, err.errors)
        assert.matches("^HTTP 503: ", err.message)
      end
    end)

    it("a 429 storm: RateLimitError after max_retries, each retry-after-ms wait honoured", function()
      m:fault { path = PATH, status = 429, count = -1, headers = { ["retry-after-ms"] = "300" } }
      local err = assert_error(get(H.client(m, { max_retries = 2 })), "RateLimitError")
      assert.are.equal(429, err.status)
      assert.are.equal(3, err.attempts)
      local reqs = H.requests(m, PATH)
      assert.are.equal(3, #reqs)
      for _, gap in ipairs(H.gaps(reqs)) do
        assert.is_true(gap >= 250, "retried after " .. gap .. " ms instead of 300")
      end
    end)
  end)

  describe("telnyx.map with some tasks hitting faults", function()
    it("completes the others and lists each failure with index, item and error; nothing half-applied", function()
      local c = H.client(m, { max_retries = 0, timeout = 1 })
      local ids = {}
      for i = 1, 12 do ids[i] = c.billing_groups:create { name = "bulk-" .. i }.data.id end
      local faults = {
        [2] = { action = "reset", type = "APIConnectionError" },
        [4] = { action = "html_502", type = "InternalServerError" },
        [6] = { action = "hang", type = "APIConnectionTimeoutError" },
        [8] = { action = "bad_json", status = 200, type = "APIStatusError" },
        [10] = { status = 429, headers = { ["retry-after-ms"] = "1" }, type = "RateLimitError" },
        [12] = { action = "deep_json", type = "APIStatusError" },
      }
      for i, f in pairs(faults) do
        m:fault { method = "PATCH", path = PATH .. "/" .. ids[i], action = f.action, status = f.status,
                  headers = f.headers, count = -1 }
      end
      local results, failures = telnyx.map(ids, function(id, i)
        return c.billing_groups:update(id, { name = "renamed-" .. i }).data.name
      end, { concurrency = 4 })
      table.sort(failures, function(a, b) return a.index < b.index end)
      local failed = {}
      for _, f in ipairs(failures) do
        failed[f.index] = true
        assert.are.equal(ids[f.index], f.item)
        assert.is_not_nil(faults[f.index], "an unexpected failure: " .. tostring(f.error))
        assert_error(f.error, faults[f.index].type)
      end
      assert.are.equal(6, #failures)
      m:clear_faults()
      for i, id in ipairs(ids) do
        local name = c.billing_groups:retrieve(id).data.name
        if faults[i] then
          assert.is_true(failed[i])
          assert.is_nil(results[i])
          assert.are.equal("bulk-" .. i, name) -- the mock never applied a faulted request
        else
          assert.are.equal("renamed-" .. i, results[i])
          assert.are.equal("renamed-" .. i, name)
        end
      end
    end)

    it("a 429 storm fails every task with RateLimitError, each listed", function()
      m:fault { path = PATH, status = 429, count = -1, headers = { ["retry-after-ms"] = "20" } }
      local c = H.client(m, { max_retries = 1 })
      local items = { "a", "b", "c", "d", "e" }
      local results, failures = telnyx.map(items, function(item)
        return c:request("GET", "/billing_groups", { query = { filter = { name = item } } })
      end, { concurrency = 3 })
      assert.are.same({}, results)
      assert.are.equal(#items, #failures)
      for _, f in ipairs(failures) do
        assert.are.equal(items[f.index], f.item)
        assert.are.equal(2, assert_error(f.error, "RateLimitError").attempts)
      end
    end)
  end)

  describe("Ctrl-C during a bulk run", function()
    local tmp
    before_each(function() tmp = cli.tmpdir() end)
    after_each(function() cli.rmdir(tmp) end)

    it("stops within seconds and exits 1 with an InterruptedError saying what was and was not done", function()
      m:latency(300)
      local script = cli.write_file(tmp .. "/bulk.lua", [[
        local telnyx = require "telnyx"
        local client = telnyx.new()
        local items = {}
        for i = 1, 60 do items[i] = i end
        local ok, err = pcall(telnyx.map, items, function(i)
          client:request("GET", "/billing_groups")
          if i == 1 then
            local f = assert(io.open(arg[1], "w"))
            f:write("started")
            f:close()
          end
          return i
        end, { concurrency = 2 })
        if telnyx.is_error(err, "InterruptedError") then
          local done = 0
          for i = 1, err.results.n do done = done + (err.results[i] ~= nil and 1 or 0) end
          io.write(telnyx.json.encode { done = done, failed = #err.failures, n = err.results.n,
                                         pending = #err.pending, in_flight = #err.in_flight,
                                         not_started = #err.not_started }, "\n")
          io.stdout:flush()
        end
        error(err, 0)
      ]])
      local marker = tmp .. "/started"
      local r = cli.shell(table.concat({
        cli.quote(cli.HOST) .. " " .. cli.quote(script) .. " " .. cli.quote(marker) .. " & pid=$!",
        "n=0",
        "while [ ! -s " .. cli.quote(marker) .. " ] && [ $n -lt 600 ]; do sleep 0.05; n=$((n + 1)); done",
        "t0=$(date +%s%N)",
        "kill -INT $pid",
        "wait $pid",
        "status=$?",
        "t1=$(date +%s%N)",
        "echo \"status=$status ms=$(( (t1 - t0) / 1000000 ))\"",
      }, "\n"), { env = { TELNYX_BASE_URL = m.url, TELNYX_API_KEY = H.API_KEY } })
      local status, ms = r.stdout:match("status=(%d+) ms=(%d+)")
      assert.is_not_nil(status, r.stdout .. r.stderr)
      assert.are.equal("1", status, r.stderr)
      assert.is_true(tonumber(ms) < 5000, "took " .. ms .. " ms to stop")
      local counts = telnyx.json.decode(r.stdout:match("^(.-)\n"))
      assert.is_true(counts.done >= 1)
      assert.is_true(counts.pending >= 1)
      assert.is_true(counts.done + counts.pending <= 60)
      assert.are.equal(60, counts.n)
      -- concurrency 2: one or two requests were in flight, their outcome unknown
      assert.is_true(counts.in_flight >= 1 and counts.in_flight <= 2, r.stdout)
      assert.are.equal(counts.pending, counts.in_flight + counts.not_started)
      local line = r.stderr:match("InterruptedError[^\n]*")
      assert.is_not_nil(line, r.stderr)
      local done, total, failed, unknown, left =
        line:match("(%d+) of (%d+) items done, (%d+) failed, (%d+) outcome unknown, (%d+) not started")
      assert.are.equal("60", total, line)
      assert.are.equal(60, tonumber(done) + tonumber(unknown) + tonumber(left))
      assert.are.equal(counts.in_flight, tonumber(unknown))
      assert.are.equal(counts.not_started, tonumber(left))
      assert.are.equal(counts.failed, tonumber(failed))
      assert.is_nil(r.stderr:find("PANIC", 1, true))
      assert.is_nil(r.stderr:find(H.API_KEY, 1, true))
    end)
  end)
end)
