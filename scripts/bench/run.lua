--[[
scripts/bench/run.lua: the benchmarks of telnyx-lua (`make bench`).

  build/telnyx-lua scripts/bench/run.lua [--runs N] [--quick] [--only NAMES] [--out FILE]

Every measured command runs as a child of build/bench/rusage, which reports its wall time
(monotonic clock), CPU (user + system) and peak RSS as the OS measured them (wait4). Each
figure is the median of N runs (5 unless --runs), with min and max. The client talks to
scripts/mock-server.lua on 127.0.0.1, started here on a free port and stopped at the end,
also on failure. The mock's own CPU is read from /proc/PID/schedstat around each run.

Output: a Markdown table of the measurements, one of the targets (met / missed) and the
machine it ran on, with the machine's speed on each CPU through the run (the floor program,
timed before the first section and after each one) and what a fresh page of memory costs on
each (build/bench/faults). Exit status 0 when every measurement ran (missed targets are
reported, not failures: these are benchmarks, not timed tests), 1 when something failed.

This file holds the command line and the wiring; the parts are modules beside it (found
relative to this file, whatever the current directory):
  util.lua        helpers: system libraries, files, commands, statistics, units
  config.lua      the options, the programs' paths and the workloads' sizes
  mock.lua        the mock (and the TLS front) started, stopped and asked; its CPU from /proc
  measure.lua     one command under rusage; several repeated, interleaved
  results.lua     the measurement rows, the targets, the derived lines and notes
  machine.lua     the machine check, page-fault costs, CPU placement, the machine's line
  startup.lua     section startup
  requests.lua    sections list (list-all) and create: CPU per request, in each placement
  stream.lua      section stream
  throughput.lua  section mock
  rotate.lua      section rotate
  rotate_tls.lua  section rotate_tls
  report.lua      the tables and the text printed
The method, the targets and the latest full run are in scripts/bench/README.md.
]]

-- The bench's modules (bench.*) are found beside this file whatever the current directory,
-- and the scripts' paths are taken from the repository's root above it.
local HERE = debug.getinfo(1, "S").source:match("^@(.+)/[^/]*$") or "."
package.path = HERE .. "/../?.lua;" .. package.path
local ROOT = HERE:match("^(.*)/scripts/bench$") or (HERE == "scripts/bench" and ".") or HERE .. "/../.."
local function root_path(p) return ROOT == "." and p or ROOT .. "/" .. p end

local util = require "bench.util"
local cfg = require "bench.config"
local mock = require "bench.mock"
local machine = require "bench.machine"
local report = require "bench.report"
local startup = require "bench.startup"
local requests = require "bench.requests"
local stream = require "bench.stream"
local throughput = require "bench.throughput"
local rotate = require "bench.rotate"
local rotate_tls = require "bench.rotate_tls"
local argparse = util.require_system "argparse"
local socket = util.require_system "socket"

---------------------------------------------------------------------------
-- The sections, in the order they run. name: what --only selects; run(m): measures and adds
-- rows (m, the shared mock without latency, when shared_mock is set); check: how the machine
-- check after it reads ("after <check>", the name when nil); always: runs whatever --only says
-- (the other figures are computed against startup's).
---------------------------------------------------------------------------
local SECTIONS = {
  { name = "startup", run = startup.run, always = true },
  { name = "list", run = requests.run_list, shared_mock = true, check = "list-all" },
  { name = "stream", run = stream.run, shared_mock = true },
  { name = "create", run = requests.run_create, shared_mock = true },
  { name = "mock", run = throughput.run, shared_mock = true },
  { name = "rotate", run = rotate.run },
  { name = "rotate_tls", run = rotate_tls.run, check = "rotate over TLS" },
}

-- The derived figures and the targets judged from the rows, in the order they are printed
-- (rotate_tls judges its target as it runs).
local DERIVE = {
  startup.derive, requests.derive_list, stream.derive, requests.derive_create, rotate.derive,
  machine.derive, throughput.derive,
}

---------------------------------------------------------------------------
-- The command line
---------------------------------------------------------------------------
local function parse_args()
  local names = {}
  for i, s in ipairs(SECTIONS) do names[i] = s.name end
  local parser = argparse("run.lua", "The benchmarks of telnyx-lua (make bench): startup, CPU per request, "
    .. "memory and concurrency measured against the local mock on 127.0.0.1, each beside its floor "
    .. "(the same work by libcurl alone), and judged against the targets. Prints Markdown tables of "
    .. "the measurements, the targets (met / missed) and derived figures; exits 0 when every "
    .. "measurement ran, missed targets included.")
    :epilog("The method and the latest full run: scripts/bench/README.md.")
  parser:option("--runs", "Runs per measurement (at least 5 for published figures; startup uses 4x).", "5")
    :argname("N")
    :convert(function(s)
      local n = math.tointeger(tonumber(s))
      if not n or n < 1 then return nil, "--runs must be a positive integer" end
      return n
    end)
  parser:flag("--quick", "Small counts: a smoke test of the driver, about 30 s; targets not judged.")
  parser:option("--only", "Comma-separated subset of: " .. table.concat(names, ",") .. " (startup always "
                .. "runs; rotate_tls: the rotate workload over TLS and HTTP/2 through nghttpx, beside "
                .. "plain HTTP/1.1 and beside libcurl alone through the same front).")
    :argname("NAMES")
    :convert(function(s)
      local only, known = {}, {}
      for _, n in ipairs(names) do known[n] = true end
      for name in s:gmatch("[^,]+") do
        if not known[name] then
          return nil, "--only: no section " .. name .. " (sections: " .. table.concat(names, ",") .. ")"
        end
        only[name] = true
      end
      return only
    end)
  parser:option("--out", "Also write the tables (Markdown) to FILE.", root_path("build/bench/results.md"))
    :argname("FILE")
  parser:option("--host", "The telnyx-lua host to measure.", root_path("build/telnyx-lua")):argname("FILE")
  parser:option("--build", "Where make put the helper programs (DIR/bench/...).", root_path("build"))
    :argname("DIR")
  return parser:parse()
end

---------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------
local function main()
  local started = socket.gettime()
  for _, f in ipairs({ cfg.RUSAGE, cfg.FLOOR, cfg.FAULTS, cfg.HOST, cfg.WORKLOAD, cfg.MOCK }) do
    if not util.read_file(f) then error(f .. " is missing (run `make bench`)") end
  end
  machine.measure_fault_costs()
  machine.check("at the start")
  local m -- the shared mock, from the first section that wants it to the first that does not
  for _, section in ipairs(SECTIONS) do
    if section.always or cfg.wanted(section.name) then
      if section.shared_mock and not m then m = mock.start(0) end
      if not section.shared_mock and m then
        mock.stop(m)
        m = nil
      end
      section.run(m)
      machine.check("after " .. (section.check or section.name))
    end
  end
  if m then mock.stop(m) end

  for _, derive in ipairs(DERIVE) do derive() end
  local out = report.text(socket.gettime() - started)
  io.stdout:write("\n", out)
  if cfg.out then util.write_file(cfg.out, out) end
end

cfg.setup(parse_args(), ROOT)
local ok, err = xpcall(main, function(e)
  if tostring(e):find("interrupted", 1, true) then return "interrupted" end
  return debug.traceback(tostring(e), 2)
end)
mock.stop_all()
os.execute("rm -rf " .. util.q(cfg.tmpdir))
if not ok then
  io.stderr:write("make bench: ", tostring(err), "\n")
  os.exit(1)
end
