-- The machine under the figures: its speed on each CPU through the run (the machine check),
-- what a fresh page of memory costs on each, where client and mock are placed, and the
-- machine's description printed under the tables.
--
-- On this VM the two vCPUs do not always run at the same speed, which can flip a target near
-- its line (scripts/bench/README.md, "Steadiness", gives the runs where it did). So the floor
-- program is timed on each CPU before the first section and after each one, and the spread is
-- printed with the figures; more than 20 % between the slowest and the fastest is called out.

local util = require "bench.util"
local cfg = require "bench.config"
local measure = require "bench.measure"
local results = require "bench.results"

local format, concat = string.format, table.concat
local median, col, ms = util.median, util.col, util.ms

local M = {
  checks = {},      -- {when =, walls = {median wall on CPU 0, on CPU 1, ...}}
  fault_costs = {}, -- per CPU: {touch =, populate =}, median µs a fresh page (faults.c)
}

-- Times the floor program on each CPU (5 runs each, interleaved); `when` labels the check.
function M.check(when)
  local specs = {}
  for cpu = 0, cfg.NPROC - 1 do
    specs[cpu + 1] = { label = format("machine check %s, CPU %d", when, cpu),
                       run = function() return measure.run({ cfg.FLOOR, cpu = cpu }) end }
  end
  local runs, walls = measure.interleaved(specs, 5, 1), {}
  for i, r in ipairs(runs) do walls[i] = median(col(r, "wall")) end
  M.checks[#M.checks + 1] = { when = when, walls = walls }
end

-- The CPU (0-based) that ran the floor fastest in the latest check.
function M.fastest_cpu()
  local walls = M.checks[#M.checks].walls
  local best = 1
  for i, w in ipairs(walls) do if w < walls[best] then best = i end end
  return best - 1
end

-- What a fresh page costs on each CPU, faulted in or populated by mmap (src/alloc.c populates).
function M.measure_fault_costs()
  for cpu = 0, cfg.NPROC - 1 do
    local touch, populate = {}, {}
    for i = 1, 5 do
      local out = measure.run({ cfg.FAULTS, "1000", cpu = cpu }).out
      touch[i] = tonumber(out:match("touch_us=(%S+)"))
      populate[i] = tonumber(out:match("populate_us=(%S+)"))
      assert(touch[i] and populate[i], cfg.FAULTS .. " printed " .. out)
    end
    M.fault_costs[cpu + 1] = { touch = median(touch), populate = median(populate) }
  end
end

-- The placements of the per-request figures: the row key's suffix and how it reads.
function M.placements()
  local p = { { suffix = "", text = "as the scheduler placed client and mock" } }
  for cpu = 0, cfg.NPROC - 1 do
    p[#p + 1] = { suffix = "_cpu" .. cpu, cpu = cpu, text = format("client and mock on CPU %d", cpu) }
  end
  return p
end

-- argv run on `cpu`, and pin(true|false) to move the mock m to that CPU or back to every CPU.
function M.on_cpu(m, argv, cpu)
  local pinned = table.move(argv, 1, #argv, 1, { cpu = cpu })
  return pinned, function(pin)
    os.execute(format("taskset -pc %s %d >/dev/null 2>&1", pin and tostring(cpu) or "0-" .. (cfg.NPROC - 1),
                      m.pid))
  end
end

-- The derived lines of the machine checks and the page costs.
function M.derive()
  if #M.checks > 0 then
    local parts, lo, hi = {}, math.huge, -math.huge
    for i, c in ipairs(M.checks) do
      local walls = {}
      for cpu, w in ipairs(c.walls) do
        walls[cpu] = ms(w)
        lo, hi = math.min(lo, w), math.max(hi, w)
      end
      parts[i] = format("%s %s", c.when, concat(walls, " / "))
    end
    results.derive(format("machine check, the floor program's median wall in ms on CPU %s (5 runs each): %s; "
                          .. "the slowest is %.0f%% above the fastest%s", cfg.NPROC > 1 and "0 / 1" or "0",
                          concat(parts, "; "), (hi / lo - 1) * 100,
                          hi / lo > 1.2 and ": the machine's speed changed during this run, so a target "
                            .. "within that margin of its line can flip from one run to the next" or ""))
  end

  if #M.fault_costs > 0 then
    local parts = {}
    for cpu, f in ipairs(M.fault_costs) do
      parts[cpu] = format("CPU %d %.1f µs faulted in, %.1f µs populated by mmap", cpu - 1, f.touch, f.populate)
    end
    results.derive(format("a fresh page written once, at the start (%s 1000, median of 5): %s", cfg.FAULTS,
                          concat(parts, "; ")))
  end
end

-- The machine, for the line under the tables.
function M.describe()
  local capture, read_file = util.capture, util.read_file
  local cpuinfo = read_file("/proc/cpuinfo") or ""
  local meminfo = read_file("/proc/meminfo") or ""
  local kb = tonumber(meminfo:match("MemTotal:%s*(%d+)")) or 0
  local curl = capture("curl-config --version 2>/dev/null")
  if curl == "" then curl = "libcurl " .. capture("dpkg-query -W -f='${Version}' libcurl4-openssl-dev 2>/dev/null") end
  return format("%s CPU(s), %s, %.1f GiB RAM; Debian %s, kernel %s; %s, %s (Debian liblua5.4-dev %s, linked in), lua-cjson %s; "
                .. "load average at the end: %s",
                capture("nproc"), cpuinfo:match("model name%s*:%s*([^\n]+)") or "unknown CPU", kb / 1048576,
                (read_file("/etc/debian_version") or "?"):gsub("%s+$", ""), capture("uname -r"), curl,
                capture(util.q(cfg.HOST) .. " -v 2>&1"):match("Lua %d[%d.]*") or "Lua ?",
                capture("dpkg-query -W -f='${Version}' liblua5.4-dev 2>/dev/null"),
                capture("dpkg-query -W -f='${Version}' lua-cjson 2>/dev/null"),
                ((read_file("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)") or "?"))
end

return M
