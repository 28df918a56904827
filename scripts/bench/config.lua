-- What the whole run shares: the options, the programs' paths, the workloads' sizes and the
-- scratch directory. run.lua fills it once (config.setup) before any section runs; the other
-- modules read its fields when they run.

local util = require "bench.util"

local format = string.format

local M = {}

-- args: the parsed command line (runs, quick, only, out, build, host); root: the repository's
-- directory ("." when run from it), which the scripts' paths are relative to.
function M.setup(args, root)
  local function path(p) return root == "." and p or root .. "/" .. p end
  M.runs, M.quick, M.only, M.out = args.runs, args.quick, args.only, args.out
  M.RUSAGE = args.build .. "/bench/rusage"
  M.FLOOR = args.build .. "/bench/floor"
  M.LUA_FLOOR = args.build .. "/bench/lua_floor"
  M.FAULTS = args.build .. "/bench/faults"
  M.CURL_FLOOR = args.build .. "/bench/curl_floor"
  M.HOST = args.host
  -- the baseline build of instructions.lua, when make could build it from the history
  M.BASELINE_HOST = args.build .. "/bench/baseline/build/telnyx-lua"
  M.WORKLOAD = path("scripts/bench/workload.lua")
  M.ROTATE = path("scripts/rotate-ip-allowlist.lua")
  M.MOCK = path("scripts/mock-server.lua")

  -- Sizes of the workloads (the issues', or small ones for --quick).
  M.N = args.quick and {
    list = 2000, stream = { 2000, 5000, 10000 }, create = 100, rotate = 100, latency = 20,
    concurrency = { 1, 8, 32 }, get = 200, page = 40,
  } or {
    list = 10000, stream = { 20000, 50000, 100000 }, create = 1000, rotate = 1000, latency = 20,
    concurrency = { 1, 8, 32 }, get = 2000, page = 400,
  }
  M.PAGE_SIZE = 250
  M.NPROC = tonumber(util.capture("nproc")) or 1

  M.tmpdir = util.capture("mktemp -d /tmp/telnyx-bench.XXXXXX")
  assert(M.tmpdir ~= "", "mktemp failed")
end

-- Whether --only (nil: every section) names `name`.
function M.wanted(name) return M.only == nil or M.only[name] == true end

-- Runs per measurement of the startup section (its programs are short: 4x the others).
function M.startup_runs() return math.max(M.runs * 4, 5) end

-- The environment of a client of the mock m.
function M.api_env(m)
  return { TELNYX_API_KEY = "bench", TELNYX_BASE_URL = m.base, TELNYX_LOG = "warn" }
end

-- The scratch file `name`.
function M.tmp(name) return format("%s/%s", M.tmpdir, name) end

return M
