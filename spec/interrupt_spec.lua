-- Ctrl-C: the first SIGINT interrupts any phase, in the host and in stock lua5.4 with
-- build/telnyx.so: a CPU-bound loop under a script's cli.main, and a transfer to a server that
-- never answers (where lua.c's own handler only sets a hook, which cannot fire inside libcurl).
-- Each case runs a child, sends one SIGINT, and checks it exits with the interrupted error well
-- before the wait it was in would have ended (a 10 s bound against minutes: a behaviour check,
-- not a timing target).
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

local BOUND = 10 -- seconds: the child is killed (timed_out) after this

describe("Ctrl-C", function()
  local m, tmp

  setup(function()
    m = mock.start { seed = 47 }
    tmp = cli.tmpdir()
  end)
  teardown(function()
    if m then m:stop() end
    if tmp then cli.rmdir(tmp) end
  end)
  before_each(function() m:reset() end)

  -- Runs argv in the background of a shell, sends it one SIGINT after `delay` s, and waits.
  local function interrupt(argv, delay)
    local words = {}
    for i, a in ipairs(argv) do words[i] = cli.quote(a) end
    local script = ("%s & pid=$!; sleep %s; kill -INT $pid; wait $pid"):format(table.concat(words, " "), delay or 0.5)
    return cli.run { "sh", "-c", script, timeout = BOUND,
                     env = { TELNYX_API_KEY = H.API_KEY, TELNYX_BASE_URL = m.url, TELNYX_CUSTOM_HEADERS = false,
                             LUA_CPATH = cli.BUILD .. "/?.so;;" } }
  end

  local function script(name, body)
    return cli.write_file(tmp .. "/" .. name, ([[
      package.cpath = %q .. "/?.so;" .. package.cpath
      local telnyx = require "telnyx"
      local cli = require "telnyx.cli"
      cli.main("spec", function()
        %s
      end)
    ]]):format(cli.BUILD, body))
  end

  local CPU = [[
    io.stderr:write("looping\n")
    local x = 0
    while true do x = (x + 1) % 7 end
  ]]

  local HANG = [[
    local c = telnyx.new()
    c:request("GET", "/billing_groups")
  ]]

  for _, host in ipairs { "telnyx-lua", "lua5.4" } do
    local function argv(file)
      return { host == "lua5.4" and "lua5.4" or cli.HOST, file }
    end

    it(host .. ": a CPU-bound loop under cli.main stops at the first SIGINT", function()
      local r = interrupt(argv(script("cpu.lua", CPU)))
      assert.is_false(r.timed_out, "still running after the first SIGINT")
      assert.matches("looping", r.stderr, 1, true)
      assert.are.equal(1, r.status, r.stderr)
      assert.matches("spec: interrupted", r.stderr, 1, true)
    end)

    it(host .. ": a request to a server that never answers stops at the first SIGINT", function()
      m:fault { path = "/v2/billing_groups", action = "hang", count = -1 }
      local r = interrupt(argv(script("hang.lua", HANG)))
      assert.is_false(r.timed_out, "still waiting after the first SIGINT")
      assert.are.equal(1, r.status, r.stderr)
      assert.matches("spec: interrupted", r.stderr, 1, true)
      assert.are.equal(1, #H.requests(m, "/v2/billing_groups"))
    end)

    it(host .. ": a telnyx.map of requests that never answer stops at the first SIGINT", function()
      m:fault { path = "/v2/billing_groups", action = "hang", count = -1 }
      local r = interrupt(argv(script("map.lua", [[
        local c = telnyx.new()
        local _, failures = telnyx.map({ 1, 2, 3 }, function() c:request("GET", "/billing_groups") end)
      ]])))
      assert.is_false(r.timed_out, "still waiting after the first SIGINT")
      assert.are.equal(1, r.status, r.stderr)
      assert.matches("interrupted", r.stderr, 1, true)
    end)

    -- The task's own Lua code never yields: the hook gives the scheduler control (a yield
    -- from a count hook), which stops every task and raises the map's one InterruptedError.
    it(host .. ": a CPU-bound loop inside a telnyx.map task stops at the first SIGINT", function()
      local r = interrupt(argv(script("mapcpu.lua", [[
        local c = telnyx.new()
        local ok, err = pcall(telnyx.map, { 1, 2, 3 }, function(i)
          if i == 1 then io.stderr:write("looping\n") end
          while true do end
        end, { concurrency = 2 })
        io.stderr:write(("caught %s: %s, pending %d\n"):format(err.type, err.message, #err.pending))
        error(err)
      ]])))
      assert.is_false(r.timed_out, "still running after the first SIGINT")
      assert.matches("looping", r.stderr, 1, true)
      assert.matches("caught InterruptedError: interrupted: 0 of 3 items done, 0 failed, 1 outcome unknown, 2 not started, pending 3",
                     r.stderr, 1, true)
      assert.are.equal(1, r.status, r.stderr)
    end)
  end

  -- Outside cli.main no hook watches the tasks (lua.c's handler sets one on the main thread
  -- only): the map gives its tasks one, and raises the flag on SIGINT while it runs.
  local SPINS = {
    ["in a pcall"] = { "while true do pcall(function() while true do end end) end",
                       "0 of 2 items done, 0 failed, 1 outcome unknown, 1 not started" },
    -- not a task: the hook raises there, the task fails, the scheduler still reports it once
    ["in a coroutine of its own"] = { "coroutine.wrap(function() while true do end end)()",
                                      "1 of 2 items done, 1 failed, 0 outcome unknown, 1 not started" },
  }
  for _, host in ipairs { "telnyx-lua", "lua5.4" } do
    for where, spin in pairs(SPINS) do
      it(host .. " -e: a task spinning " .. where .. " stops at the first SIGINT", function()
        local code = ([[
          local telnyx = require "telnyx"
          local ok, err = pcall(telnyx.map, { 1, 2 }, function(i)
            io.stderr:write("looping\n")
            %s
          end, { concurrency = 1 })
          io.stderr:write(("caught %%s: %%s\n"):format(err.type, err.message))
        ]]):format(spin[1])
        local r = interrupt { host == "lua5.4" and "lua5.4" or cli.HOST, "-e", code }
        assert.is_false(r.timed_out, "still running after the first SIGINT")
        assert.matches("looping", r.stderr, 1, true)
        assert.matches("caught InterruptedError: interrupted: " .. spin[2], r.stderr, 1, true)
        assert.are.equal(0, r.status, r.stderr)
      end)
    end
  end

  it("stock lua5.4 -e: a blocking request raises lua.c's 'interrupted!' at the first SIGINT", function()
    m:fault { path = "/v2/billing_groups", action = "hang", count = -1 }
    local code = [[
      local c = require("telnyx").new()
      c:request("GET", "/billing_groups")
    ]]
    local r = interrupt { "lua5.4", "-e", code }
    assert.is_false(r.timed_out, "still waiting after the first SIGINT")
    assert.are.equal(1, r.status, r.stderr)
    assert.matches("interrupted!", r.stderr, 1, true)
  end)

  it("stock lua5.4 -e: after an interrupted request, lua.c's handler is back (Lua loops stop too)", function()
    m:fault { path = "/v2/billing_groups", action = "hang", count = -1 }
    local code = [[
      local c = require("telnyx").new{ timeout = 0.2, max_retries = 0 }
      pcall(c.request, c, "GET", "/billing_groups") -- a timeout: the module's handler is gone again
      io.stderr:write("looping\n")
      local x = 0
      while true do x = (x + 1) % 7 end
    ]]
    local r = interrupt({ "lua5.4", "-e", code }, 1)
    assert.is_false(r.timed_out, "still running after the first SIGINT")
    assert.matches("looping", r.stderr, 1, true)
    assert.matches("interrupted!", r.stderr, 1, true)
  end)
end)
