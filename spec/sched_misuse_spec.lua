-- telnyx.map against user code that misuses a task's coroutine (src/sched.c): closing another
-- task's coroutine while it waits, resuming it, a map inside coroutine.wrap inside a task, a
-- task's coroutine kept and resumed after the map, an error in __close. Each gives a clear
-- error or the right result and the map ends: never a spin, a hang or a transfer taken by
-- the wrong task. Each scenario runs in a child process (killed after its timeout), against
-- the mock with one path that never answers while the other answers at once.
local mock = require "spec.support.mock"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

-- Task 2 waits on /billing_groups/hang (no answer for 5 s, the client's timeout); task 1
-- makes one quick call first, so task 2 is waiting when task 1 acts on it with `act`.
local PRELUDE = [[
local telnyx = require "telnyx"
local c = telnyx.new { max_retries = 0, timeout = 5 }
local cos = {}
local function run(act)
  local started = os.time()
  local results, failures = telnyx.map({ 1, 2 }, function(item, i)
    cos[i] = coroutine.running()
    if i == 2 then return (c:request("GET", "/billing_groups/hang")) and "answered" end
    c:request("GET", "/billing_groups")
    return act(cos[2])
  end, { concurrency = 2 })
  local out = {}
  for i = 1, 2 do
    local f
    for _, x in ipairs(failures) do if x.index == i then f = x end end
    out[i] = f and ("fail: " .. tostring(f.error)) or ("ok: " .. tostring(results[i]))
  end
  print("task 1 " .. out[1])
  print("task 2 " .. out[2])
  print("seconds " .. (os.time() - started))
end
]]

local function child(m, code)
  local r = H.child(m, PRELUDE .. code)
  assert.is_false(r.timed_out, "the map did not end (spin or hang): " .. r.stderr)
  return r
end

local function line(r, prefix)
  for _, l in ipairs(cli.lines(r.stdout)) do
    if l:sub(1, #prefix) == prefix then return l end
  end
  error("no line '" .. prefix .. "' in: " .. r.stdout .. r.stderr)
end

describe("telnyx.map against misuse of a task's coroutine", function()
  local m
  setup(function() m = mock.start { seed = 22 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function()
    m:reset()
    m:fault { path = "/v2/billing_groups/hang", action = "hang", count = -1 }
  end)

  it("coroutine.close of a waiting task (then a collection): that task fails clearly, the map ends", function()
    local r = child(m, [[
      run(function(co)
        local ok, err = coroutine.close(co)
        collectgarbage(); collectgarbage()
        return "closed " .. tostring(ok) .. " " .. tostring(err)
      end)
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal("task 1 ok: closed true nil", line(r, "task 1"))
    assert.matches("task 2 fail: .*closed", line(r, "task 2"))
    -- the map did not wait for the closed task's request to time out
    assert.is_true(tonumber(line(r, "seconds"):match("%d+")) < 4, r.stdout)
  end)

  it("coroutine.resume of a waiting task: the resumer gets a clear error, the task fails clearly", function()
    local r = child(m, [[
      run(function(co)
        local ok, err = coroutine.resume(co)
        return "resumed " .. tostring(ok) .. " " .. tostring(err)
      end)
    ]])
    assert.are.equal(0, r.status, r.stderr)
    local l1 = line(r, "task 1")
    assert.matches("^task 1 ok: resumed false .*resumed outside telnyx.map", l1)
    assert.is_nil(l1:find("HTTP 0", 1, true), l1)
    assert.matches("task 2 fail: .*resumed outside telnyx.map", line(r, "task 2"))
  end)

  it("coroutine.wrap of a task's coroutine body is refused the same way", function()
    local r = child(m, [[
      run(function(co)
        local ok, err = pcall(function()
          local f = coroutine.wrap(function() return coroutine.resume(co) end)
          local a, b = f()
          return b
        end)
        return "wrapped " .. tostring(ok) .. " " .. tostring(err)
      end)
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^task 1 ok: wrapped true .*resumed outside telnyx.map", line(r, "task 1"))
    assert.matches("task 2 fail: .*resumed outside telnyx.map", line(r, "task 2"))
  end)

  it("telnyx.map inside coroutine.wrap inside a task is refused; the outer map still ends", function()
    local r = child(m, [[
      run(function()
        local ok, err = pcall(coroutine.wrap(function()
          return telnyx.map({ 1 }, function() return c:request("GET", "/billing_groups") end)
        end))
        return "nested " .. tostring(ok) .. " " .. tostring(err)
      end)
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^task 1 ok: nested false .*telnyx.map cannot run inside", line(r, "task 1"))
    -- task 2's request was not taken by an inner map: it ran to its own (timeout) end
    assert.matches("task 2 fail: .*timed out", line(r, "task 2"))
  end)

  it("a call inside coroutine.wrap inside a task blocks and gets its own answer", function()
    local r = child(m, [[
      run(function()
        local f = coroutine.wrap(function() return c:request("GET", "/billing_groups").data end)
        return "wrapped call " .. type(f())
      end)
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal("task 1 ok: wrapped call table", line(r, "task 1"))
    assert.matches("task 2 fail: .*timed out", line(r, "task 2"))
  end)

  it("a yield from a task's own code fails that task only, with a clear message", function()
    local r = child(m, [[
      run(function() coroutine.yield("x") return "after" end)
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("task 1 fail: .*yielded", line(r, "task 1"))
  end)

  it("a task's coroutine kept after the map is dead; resuming or closing it is harmless", function()
    local r = child(m, [[
      run(function() return "kept" end)
      print("resume", coroutine.resume(cos[2]))
      print("resume1", coroutine.resume(cos[1]))
      print("close", coroutine.close(cos[2]))
      collectgarbage()
      print("again", select("#", telnyx.map({ 1 }, function() return c:request("GET", "/billing_groups").data end)))
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^resume\tfalse\tcannot resume dead coroutine", line(r, "resume\t"))
    assert.matches("^resume1\tfalse\tcannot resume dead coroutine", line(r, "resume1"))
    assert.are.equal("again\t2", line(r, "again"))
  end)

  it("an error inside __close of a task closed by another task is reported to the closer", function()
    local r = child(m, [[
      local results, failures = telnyx.map({ 1, 2 }, function(item, i)
        cos[i] = coroutine.running()
        if i == 2 then
          local guard <close> = setmetatable({}, { __close = function() error("boom in close") end })
          return c:request("GET", "/billing_groups/hang")
        end
        c:request("GET", "/billing_groups")
        local ok, err = coroutine.close(cos[2])
        return tostring(ok) .. " " .. tostring(err)
      end, { concurrency = 2 })
      print("r1", results[1])
      print("failures", #failures, failures[1] and failures[1].index, failures[1] and tostring(failures[1].error))
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^r1\tfalse .*boom in close", line(r, "r1"))
    assert.matches("^failures\t1\t2\t.*closed", line(r, "failures"))
  end)

  it("closing a task that waits out a retry pause fails it clearly and the map ends", function()
    m:fault { path = "/v2/billing_groups/slow", status = 503, count = -1, headers = { ["retry-after"] = "3" } }
    local r = child(m, [[
      local results, failures = telnyx.map({ 1, 2 }, function(item, i)
        cos[i] = coroutine.running()
        if i == 2 then return telnyx.new { max_retries = 1 }:request("GET", "/billing_groups/slow") end
        c:request("GET", "/billing_groups")
        c:request("GET", "/billing_groups")
        return tostring(coroutine.close(cos[2]))
      end, { concurrency = 2 })
      print("r1", results[1])
      print("failures", #failures, failures[1] and tostring(failures[1].error))
    ]])
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal("r1\ttrue", line(r, "r1"))
    assert.matches("^failures\t1\t.*closed", line(r, "failures"))
  end)

  -- Metamethods run inside whatever telnyx.map is resuming (another task) or inside the
  -- scheduler itself: neither may hand a waiting task's coroutine its continuation.
  local FROM = {
    ["__close"] = [[
      local guard <close> = setmetatable({}, { __close = function()
        print("resumer", coroutine.resume(cos[2]))
      end })
      return "done"
    ]],
    ["__gc"] = [[
      setmetatable({}, { __gc = function() print("resumer", coroutine.resume(cos[2])) end })
      collectgarbage()
      collectgarbage()
      return "done"
    ]],
  }
  for name, body in pairs(FROM) do
    it("a waiting task's coroutine resumed from another task's " .. name .. ": a clear error, the map ends", function()
      local r = child(m, ("run(function() %s end)"):format(body))
      assert.are.equal(0, r.status, r.stderr)
      assert.matches("^resumer\tfalse\t.*only telnyx.map may resume it", line(r, "resumer"))
      assert.are.equal("task 1 ok: done", line(r, "task 1"))
      assert.matches("^task 2 fail: .*resumed outside telnyx.map", line(r, "task 2"))
    end)
  end
end)
