-- Start-up and first-resource-access costs in instructions (callgrind's total Ir), which do not
-- drift with the machine's speed as wall times do, and the peak RSS of a script using a few
-- resources, each beside the baseline measured before the API was loaded per resource.
-- Printed by bench.report, after the derived figures.
local M = {}

-- Baselines: build/telnyx-lua of commit cf9ceb1 (main, the 38-operation subset table), measured
-- with valgrind 3.19 --tool=callgrind on this VM. RSS: the smallest of 8 runs, in KB.
M.CASES = {
  { key = "empty", label = "`telnyx-lua -e ''`", code = "", base = 12804568, limit = 1 },
  { key = "new", label = "`require \"telnyx\".new{}`", code = 'require"telnyx".new{}',
    base = 12879770, limit = 1 },
  { key = "billing_groups", label = "first access `client.billing_groups`",
    code = 'local c = require"telnyx".new{} local _ = c.billing_groups.list', base = 18285206, limit = 1 },
  { key = "calls", label = "first access `client.calls` (a largest module)",
    code = 'local c = require"telnyx".new{} local _ = c.calls.dial', base = 18285206, limit = 1.5 },
  { key = "ai", label = "first access `client.ai` (the largest module)",
    code = 'local c = require"telnyx".new{} local _ = c.ai.chat.completions.create', base = 18285206,
    limit = 1.5 },
}
M.RSS = { label = "peak RSS, 3 resources used",
          code = 'local c = require"telnyx".new{} local _ = c.billing_groups.list, '
                 .. 'c.addresses.actions.validate, c.telephony_credentials.list',
          base = 8540, slack = 512 }

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function capture(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

-- Total instructions of `host -e code`, or nil when valgrind is not installed.
function M.instructions(host, code)
  -- TELNYX_ALLOC=pool: the allocator users get (it steps aside for valgrind otherwise)
  local out = capture("TELNYX_ALLOC=pool valgrind --tool=callgrind --callgrind-out-file=/dev/null " .. q(host)
                      .. " -e " .. q(code) .. " 2>&1")
  local refs = out:match("refs:%s*([%d,]+)")
  return refs and tonumber((refs:gsub(",", ""))) or nil
end

-- The smallest peak RSS (KB) of `runs` runs, by GNU time; nil when it is not installed.
function M.peak_rss(host, code, runs)
  local best
  for _ = 1, runs or 8 do
    local kb = tonumber(capture("/usr/bin/time -f %M " .. q(host) .. " -e " .. q(code) .. " 2>&1 >/dev/null"):match("(%d+)%s*$"))
    if not kb then return nil end
    best = math.min(best or kb, kb)
  end
  return best
end

local function millions(n) return string.format("%.3f M", n / 1e6) end

-- Callgrind's count for one binary varies by a few thousand from run to run (the environment's
-- size moves the loader's work): within this share of the baseline counts as no more.
local NOISE = 0.001

-- Markdown lines: a table of each count beside its baseline and target.
function M.lines(host)
  local out = { "### Instructions (callgrind) and memory", "",
                "| what | now | baseline | target | met |", "|---|---|---|---|---|" }
  local cases = M.CASES
  if not capture("command -v valgrind"):find("valgrind", 1, true) then
    out = { "### Instructions (callgrind) and memory", "",
            "- callgrind unavailable (valgrind not installed): instructions not measured.", "",
            "| what | now | baseline | target | met |", "|---|---|---|---|---|" }
    cases = {}
  end
  for _, c in ipairs(cases) do
    local n = M.instructions(host, c.code)
    local goal = c.base * c.limit
    out[#out + 1] = string.format("| %s | %s | %s | <= %s | %s |", c.label, n and millions(n) or "failed",
                                  millions(c.base), millions(goal),
                                  n and n <= goal * (1 + NOISE) and "yes" or "NO")
  end
  local rss = M.peak_rss(host, M.RSS.code)
  if rss then
    out[#out + 1] = string.format("| %s | %d KB | %d KB | <= %d KB | %s |", M.RSS.label, rss, M.RSS.base,
                                  M.RSS.base + M.RSS.slack, rss <= M.RSS.base + M.RSS.slack and "yes" or "NO")
  end
  out[#out + 1] = ""
  return out
end

return M
