-- Measuring one command (a child of build/bench/rusage, which reports its wall time, CPU and
-- peak RSS as the OS measured them), and repeating several, interleaved.

local util = require "bench.util"
local cfg = require "bench.config"
local mock = require "bench.mock"
local socket = util.require_system "socket"

local format, concat = string.format, table.concat
local read_file, q = util.read_file, util.q

local M = {}

-- Runs argv under rusage; argv.cpu, when set, pins it (and rusage, before its clock starts) to
-- that CPU; env is a table of variables; expect is the exact stdout wanted (nil: anything);
-- mock, when given, is the mock whose CPU and requests the run is charged with.
-- Returns {wall, cpu, user, sys, rss (KB), out, loop_cpu, first_cpu, after_first_cpu, mock_cpu,
-- requests, t_start, t_end}.
function M.run(argv, env, expect, m)
  local RUS, OUT, ERR = cfg.tmp("rusage"), cfg.tmp("stdout"), cfg.tmp("stderr")
  local words = {}
  for k, v in pairs(env or {}) do words[#words + 1] = k .. "=" .. q(v) end
  table.sort(words)
  if #words > 0 then table.insert(words, 1, "env") end
  if argv.cpu then
    for i, w in ipairs({ "taskset", "-c", tostring(argv.cpu) }) do table.insert(words, i, w) end
  end
  words[#words + 1] = q(cfg.RUSAGE)
  words[#words + 1] = q(RUS)
  for _, a in ipairs(argv) do words[#words + 1] = q(a) end
  local cmd = concat(words, " ") .. " >" .. q(OUT) .. " 2>" .. q(ERR)
  os.remove(RUS)
  local requests0 = m and mock.requests(m)
  local cpu0 = m and mock.cpu(m.pid)
  local t_start = socket.gettime() -- the mock's log uses the same clock
  local ok, how, code = os.execute(cmd)
  local t_end = socket.gettime()
  local cpu1 = m and mock.cpu(m.pid)
  if how == "signal" then error("interrupted") end
  local line = read_file(RUS) or ""
  local wall, user, sys, rss, status = line:match("^(%S+) (%S+) (%S+) (%S+) (%S+)")
  if not ok or not wall or tonumber(status) ~= 0 then
    error(format("%s failed (exit %s): %s", concat(argv, " "), tostring(status or code),
                 (read_file(ERR) or ""):sub(1, 2000)))
  end
  local out = (read_file(OUT) or ""):gsub("%s+$", "")
  -- workload.lua ends its line with the CPU time its requests took, measured inside it
  local loop_cpu = tonumber(out:match(" loop_cpu=(%S+)$"))
  out = out:gsub(" loop_cpu=%S+$", "")
  local first_cpu = tonumber(out:match(" first_cpu=(%S+)$"))
  out = out:gsub(" first_cpu=%S+$", "")
  if expect and out ~= expect then
    error(format("%s printed %q, expected %q", concat(argv, " "), out, expect))
  end
  local r = { wall = tonumber(wall), user = tonumber(user), sys = tonumber(sys),
              rss = tonumber(rss), out = out, loop_cpu = loop_cpu, first_cpu = first_cpu,
              t_start = t_start, t_end = t_end }
  r.cpu = r.user + r.sys
  if first_cpu then r.after_first_cpu = loop_cpu - first_cpu end
  if m then
    r.mock_cpu = cpu1 - cpu0
    r.requests = mock.requests(m) - requests0
  end
  return r
end

-- Repeats each of several measurements ({label =, run = function(round) -> result}) `runs`
-- times, interleaved (so slow drifts of the machine's load spread over all of them), after
-- `warmup` unmeasured runs of each. Returns results[spec index][round].
function M.interleaved(specs, runs, warmup)
  local results = {}
  for i, spec in ipairs(specs) do
    results[i] = {}
    for _ = 1, warmup or 0 do spec.run() end
  end
  for r = 1, runs do
    for i, spec in ipairs(specs) do
      util.log("  %s (%d/%d)", spec.label, r, runs)
      results[i][r] = spec.run(r)
    end
  end
  return results
end

return M
