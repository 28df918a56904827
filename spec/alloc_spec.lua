-- The host gives the Lua state its own allocator (src/alloc.c): free lists of small blocks by
-- size class, blocks without headers, sizes taken from what Lua says. A mistake there (a block
-- handed out smaller than asked, a class mixed up on resize) shows as corrupted values, so this
-- churns strings and tables of every size across the classes and checks every byte, once with
-- the free lists and once with TELNYX_ALLOC=malloc, and both must print the same.
local cli = require "spec.support.cli"

local CHURN = [[
local rounds = tonumber(arg[1])
local function str(n, seed) return string.rep(string.char(65 + seed % 26), n) end
local keep, sum = {}, 0
for round = 1, rounds do
  -- strings of every length across the small classes and past them
  for n = 0, 600, 7 do
    local s = str(n, n + round)
    keep[(n + round) % 97 + 1] = { s, n, n + round } -- some live on across collections
    assert(#s == n and s == str(n, n + round), "string of length " .. n .. " corrupted")
  end
  -- tables that grow through every class and shrink back (array and hash parts)
  local t, h = {}, {}
  for i = 1, 300 do t[i] = i * round; h["k" .. i] = i end
  for i = 300, 1, -1 do
    assert(t[i] == i * round and h["k" .. i] == i, "table slot " .. i .. " corrupted")
    t[i], h["k" .. i] = nil, nil
  end
  collectgarbage("step", 0)
  for i = 1, 100 do h = { i, tostring(i), { i } }; sum = sum + h[3][1] end
  if round % 25 == 0 then collectgarbage() end
end
for _, k in pairs(keep) do assert(k[1] == str(k[2], k[3]), "kept string corrupted") end
print(string.format("rounds=%d sum=%d kept=%d", rounds, sum, #keep))
]]

describe("the host's allocator", function()
  local dir, script
  setup(function()
    dir = cli.tmpdir()
    script = dir .. "/churn.lua"
    local f = assert(io.open(script, "w"))
    f:write(CHURN)
    f:close()
  end)
  teardown(function() cli.rmdir(dir) end)

  it("keeps every value intact through heavy churn, as malloc does", function()
    local pooled = cli.run({ cli.HOST, script, "200", env = { TELNYX_ALLOC = false } })
    local plain = cli.run({ cli.HOST, script, "200", env = { TELNYX_ALLOC = "malloc" } })
    assert.are.equal("", pooled.stderr)
    assert.are.equal(0, pooled.status)
    assert.are.equal("rounds=200 sum=1010000 kept=97\n", pooled.stdout)
    assert.are.equal(plain.stdout, pooled.stdout)
    assert.are.equal(0, plain.status)
  end)
end)

-- Memory checkers see only malloc's blocks: with no setting (TELNYX_ALLOC unset), the host
-- gives every Lua object to malloc under valgrind, and in a sanitizer build. 20,000 small
-- tables must show as at least 20,000 allocations to the checker (the free lists make them a
-- few dozen chunks).
describe("the host's allocator under memory checkers", function()
  local SCRIPT = "local t = {} for i = 1, 20000 do t[i] = { i } end print(#t)"

  it("steps aside under valgrind without TELNYX_ALLOC", function()
    if not os.execute("command -v valgrind >/dev/null 2>&1") then
      pending("valgrind is not installed (make deps-hardening)")
      return
    end
    -- the plain build: valgrind cannot run the sanitizer build make sanitize points TELNYX_LUA at
    local r = cli.run({ "valgrind", cli.BUILD .. "/telnyx-lua", "-e", SCRIPT,
                        env = { TELNYX_ALLOC = false }, timeout = 120 })
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal("20000\n", r.stdout)
    local allocs = r.stderr:match("total heap usage: ([%d,]+) allocs")
    assert.is_truthy(allocs, r.stderr)
    allocs = tonumber((allocs:gsub(",", "")))
    assert.is_true(allocs >= 20000, "valgrind saw " .. allocs .. " allocations")
  end)

  it("steps aside in a sanitizer build without TELNYX_ALLOC (when the host is one)", function()
    local r = cli.run({ cli.HOST, "-e", SCRIPT,
                        env = { TELNYX_ALLOC = false, ASAN_OPTIONS = "atexit=1:print_stats=1:detect_leaks=0" } })
    assert.are.equal(0, r.status, r.stderr)
    local calls = r.stderr:match("malloced %b() by (%d+) calls")
    if not calls then
      pending("the host is not a sanitizer build (make sanitize runs this)")
      return
    end
    assert.is_true(tonumber(calls) >= 20000, "ASan saw " .. calls .. " allocations")
  end)
end)
