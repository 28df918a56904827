-- Start-up and first-resource-access costs in instructions (callgrind's total Ir), which do not
-- drift with the machine's speed as wall times do, and the peak RSS of a script using a few
-- resources, each beside the baseline measured before the API was loaded per resource.
-- Printed by bench.report, after the derived figures.
local M = {}

-- Recorded baselines: build/telnyx-lua of commit cf9ceb1 (main, the 38-operation subset table),
-- measured with valgrind 3.19 --tool=callgrind on this VM on 2026-12-07. RSS: the smallest of 8
-- runs, in KB. Used only when make could not build that commit beside this one (M.lines).
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

local util = require "bench.util"
local q, capture = util.q, util.capture

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

-- Callgrind's count of one binary in one environment moves by a couple of thousand from run to
-- run (measured: ±2,000 in 12.8 M): within this share of the baseline counts as no more. Against
-- the recorded counts, made in another environment (whose size moves the loader's work by tens
-- of thousands), the allowance is wider.
local NOISE_SAME_RUN, NOISE_RECORDED = 0.0003, 0.001

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Markdown lines: a table of each count beside its baseline and target. baseline_host: the
-- baseline build (Makefile: $(B)/bench/baseline), counted in this run when it exists; else the
-- counts recorded in M.CASES and M.RSS.
function M.lines(host, baseline_host)
  local same_run = baseline_host ~= nil and exists(baseline_host)
  local noise = same_run and NOISE_SAME_RUN or NOISE_RECORDED
  local out = { "### Instructions (callgrind) and memory", "" }
  local cases = M.CASES
  if not capture("command -v valgrind"):find("valgrind", 1, true) then
    out[#out + 1] = "- callgrind unavailable (valgrind not installed): instructions not measured."
    cases = {}
  end
  out[#out + 1] = same_run
    and "- baseline: commit cf9ceb1, built by make beside this one and measured in this run."
    or "- baseline: commit cf9ceb1 as recorded on 2026-12-07 in another environment (its build is "
       .. "not here: see the Makefile's BENCH_BASELINE)."
  out[#out + 1] = string.format("- a count within %.2g %% over its target is called met (callgrind's "
                                .. "run-to-run spread).", noise * 100)
  out[#out + 1] = ""
  out[#out + 1] = "| what | now | baseline | target | met |"
  out[#out + 1] = "|---|---|---|---|---|"
  for _, c in ipairs(cases) do
    local n = M.instructions(host, c.code)
    local base = same_run and M.instructions(baseline_host, c.code) or c.base
    local goal = base and base * c.limit
    out[#out + 1] = string.format("| %s | %s | %s | <= %s | %s |", c.label, n and millions(n) or "failed",
                                  base and millions(base) or "failed", goal and millions(goal) or "?",
                                  n and goal and n <= goal * (1 + noise) and "yes" or "NO")
  end
  local rss = M.peak_rss(host, M.RSS.code)
  local rss_base = M.RSS.base
  if same_run then rss_base = M.peak_rss(baseline_host, M.RSS.code) end
  if rss and rss_base then
    out[#out + 1] = string.format("| %s | %d KB | %d KB | <= %d KB | %s |", M.RSS.label, rss, rss_base,
                                  rss_base + M.RSS.slack, rss <= rss_base + M.RSS.slack and "yes" or "NO")
  end
  out[#out + 1] = ""
  return out
end

return M
