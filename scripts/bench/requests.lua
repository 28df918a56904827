-- The per-request sections: list-all (every access IP, a page at a time) and create (sequential
-- creates), each beside the same requests made by libcurl alone (curl_floor), and judged on the
-- client's CPU per request.
--
-- On this VM a process woken by one on the other vCPU may pay for the wake-up in system time,
-- and the scheduler moves client and mock between the vCPUs from one run to the next, so a
-- process's CPU per request varies between runs of the same program (plain libcurl as much as
-- telnyx-lua; scripts/bench/README.md, "Placement", has the figures). The per-request figures
-- are therefore taken as the scheduler places the processes, and with the client and the mock
-- both on one CPU (taskset), which leaves the hypervisor's part out: on each CPU in turn, since
-- for minutes at a time one vCPU runs slower than the other (see bench/machine.lua), and the
-- same programs on both, interleaved, show what that does to a figure within one run.

local util = require "bench.util"
local cfg = require "bench.config"
local mock = require "bench.mock"
local measure = require "bench.measure"
local machine = require "bench.machine"
local results = require "bench.results"
local startup = require "bench.startup"

local format = string.format
local med, target, derive = results.med, results.target, results.derive

local M = {}

-- Runs of `ours` (workload.lua) and `floor` (curl_floor), in every placement, interleaved;
-- `run(argv)` measures one. Adds the rows key, key_floor, and those with a placement's suffix.
local function per_request_rows(m, key, label, ours, floor, floor_label, run)
  local specs = {}
  for _, v in ipairs({ { "", ours, label },
                       { "_floor", floor, floor_label } }) do
    local argv = v[2]
    for _, place in ipairs(machine.placements()) do
      local spec = { key = key .. v[1] .. place.suffix, label = v[3],
                     run = function() return run(argv) end }
      if place.cpu then
        local pinned, pin = machine.on_cpu(m, argv, place.cpu)
        spec.label = format("%s (%s)", v[3], place.text)
        spec.run = function()
          pin(true)
          local ok, r = pcall(run, pinned)
          pin(false)
          if not ok then error(r, 0) end
          return r
        end
      end
      specs[#specs + 1] = spec
    end
  end
  local runs = measure.interleaved(specs, cfg.runs, 1)
  for i, spec in ipairs(specs) do results.add_row(spec.key, spec.label, runs[i]) end
end

function M.run_list(m)
  local N, PAGE_SIZE = cfg.N, cfg.PAGE_SIZE
  util.log("list-all")
  mock.reset(m)
  mock.seed(m, N.list)
  per_request_rows(m, "list", format("list-all: %d access IPs, page[size]=%d", N.list, PAGE_SIZE),
                   { cfg.HOST, cfg.WORKLOAD, "list", tostring(PAGE_SIZE) },
                   { cfg.CURL_FLOOR, "list", m.base, tostring(PAGE_SIZE), tostring(N.list // PAGE_SIZE) },
                   "floor: the same pages fetched by a C program with libcurl alone (nothing decoded)",
                   function(argv) return measure.run(argv, cfg.api_env(m), "items=" .. N.list, m) end)
end

function M.run_create(m)
  local N = cfg.N
  util.log("create")
  per_request_rows(m, "create", format("create: %d sequential creates", N.create),
                   { cfg.HOST, cfg.WORKLOAD, "create", tostring(N.create), "1" },
                   { cfg.CURL_FLOOR, "create", m.base, tostring(N.create), "1" },
                   "floor: the same creates by a C program with libcurl alone",
                   function(argv)
                     mock.reset(m)
                     local r = measure.run(argv, cfg.api_env(m), "created=" .. N.create, m)
                     assert(mock.total(m) == N.create, "the mock does not hold every created record")
                     return r
                   end)
end

-- Per-request CPU of `key` over `count` requests in each placement (see per_request_rows),
-- beside the libcurl floor's; the target is judged for every placement. A request's cost is
-- taken over the requests after the first: the first also pays what a process does once
-- (libcurl's global init, OpenSSL loading its configuration, which the issue counts in the
-- floor; the connection; loading code), shown on its own. Returns the row as placed, if any.
local function per_request(key, what, count, own, goal_text, goal)
  local by_key = results.by_key
  local function per(s) return s / (count - 1) * 1000 end
  for _, place in ipairs(machine.placements()) do
    local row, floor = by_key[key .. place.suffix], by_key[key .. "_floor" .. place.suffix]
    if row then
      local a, fa = row.after_first_cpu, floor and floor.after_first_cpu
      derive(format("%s, %s: client CPU %.3f ms per request after the first (%.3f–%.3f over the runs); "
                    .. "the first %.2f ms; all %d together %.3f ms a request%s", what, place.text,
                    per(a.med), per(a.min), per(a.max), row.first_cpu.med * 1000, count,
                    row.loop_cpu.med / count * 1000,
                    fa and format("; libcurl alone %.3f ms after the first (%.3f–%.3f), the first %.2f ms, "
                                  .. "all together %.3f ms, so telnyx-lua's own part (%s) is %.3f ms a request",
                                  per(fa.med), per(fa.min), per(fa.max), floor.first_cpu.med * 1000,
                                  floor.loop_cpu.med / count * 1000, own, per(a.med) - per(fa.med))
                       or ""))
      target(format("%s: client CPU per request after the first, %s", what, place.text),
             format("%.3f ms%s", per(a.med), fa and format(" (libcurl alone: %.3f ms)", per(fa.med)) or ""),
             goal_text, per(a.med) < goal * 1000)
    end
  end
  return by_key[key]
end

-- Peak RSS is judged against the plain floor, the stricter one: telnyx-lua's figure includes
-- what curl_global_init maps, the floor's does not (scripts/bench/README.md, "Memory").
function M.floor_rss() return med("floor", "rss") end

function M.derive_list()
  local list = results.by_key.list
  if not list then return end
  local PAGE_SIZE = cfg.PAGE_SIZE
  local base_cpu = startup.fixed_cpu()
  local reqs = list.requests.med
  per_request("list", format("list-all (%d items a page)", PAGE_SIZE), reqs,
              "decoding the items into Lua tables, the pager", "< 0.5 ms", 0.0005)
  derive(format("list-all: %d requests, %.2f µs of client CPU per item; the whole process's CPU "
                .. "less the fixed cost gives %.3f ms a request; wall %.2f ms per request "
                .. "(mock CPU %.3f ms per request)", reqs, list.loop_cpu.med / reqs / PAGE_SIZE * 1e6,
                base_cpu and (list.cpu.med - base_cpu) / reqs * 1000 or 0,
                (list.wall.med - (med("start_resource", "wall") or 0)) / reqs * 1000,
                list.mock_cpu.med / reqs * 1000))
  local floor_rss = M.floor_rss()
  if floor_rss then
    target("list-all: peak RSS above the floor's (linked with libcurl)", format("%+.1f MB (%s vs %s MB)",
           (list.rss.med - floor_rss) / 1024, util.mb(list.rss.med), util.mb(floor_rss)), "≤ +8 MB",
           list.rss.med - floor_rss <= 8 * 1024)
  end
end

function M.derive_create()
  local N = cfg.N
  local create = per_request("create", "create", N.create, "the call, encoding the body, decoding the answer",
                             "< 0.1 ms", 0.0001)
  if create then
    local base_cpu = startup.fixed_cpu()
    derive(format("create: the whole process's CPU less the fixed cost gives %.3f ms a request; wall %.3f ms "
                  .. "per request (mock CPU %.3f ms)", base_cpu and (create.cpu.med - base_cpu) / N.create * 1000 or 0,
                  create.wall.med / N.create * 1000, create.mock_cpu.med / N.create * 1000))
  end
end

return M
