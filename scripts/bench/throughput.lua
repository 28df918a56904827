-- The mock section: what the mock can serve to one client (simple GETs, and long pages), so
-- that it is not the bottleneck of the other figures. Not judged.

local util = require "bench.util"
local cfg = require "bench.config"
local mock = require "bench.mock"
local measure = require "bench.measure"
local results = require "bench.results"

local format = string.format

local M = {}

function M.run(m)
  local N, PAGE_SIZE = cfg.N, cfg.PAGE_SIZE
  util.log("mock throughput")
  mock.reset(m)
  mock.seed(m, N.list)
  local id = mock.call(m, "GET", "/access_ip_address?page%5Bsize%5D=1", nil, true).data[1].id
  local runs = measure.interleaved({
    { label = "mock GET", run = function()
      return measure.run({ cfg.HOST, cfg.WORKLOAD, "get", tostring(N.get), id }, cfg.api_env(m), "got=" .. N.get, m)
    end },
    { label = "mock page", run = function()
      return measure.run({ cfg.HOST, cfg.WORKLOAD, "page", tostring(N.page), tostring(PAGE_SIZE) }, cfg.api_env(m),
                         "items=" .. N.page * PAGE_SIZE, m)
    end },
  }, cfg.runs, 1)
  results.add_row("mock_get", format("mock: %d GET /access_ip_address/{id}", N.get), runs[1], { count = N.get })
  results.add_row("mock_page", format("mock: %d GET of a %d-item page", N.page, PAGE_SIZE), runs[2],
                  { count = N.page })
end

function M.derive()
  for _, key in ipairs({ "mock_get", "mock_page" }) do
    local r = results.by_key[key]
    if r then
      local busy_wall = r.wall.med - (results.med("start_resource", "wall") or 0)
      results.derive(format("%s: served %.0f requests/s to one client; mock CPU %.3f ms per request "
                            .. "(busy %.0f%% of the time, so at most %.0f requests/s); client CPU %.3f ms per request",
                            key == "mock_get" and "mock, simple GET" or format("mock, %d-item page", cfg.PAGE_SIZE),
                            r.count / busy_wall, r.mock_cpu.med / r.count * 1000, r.mock_cpu.med / busy_wall * 100,
                            r.count / r.mock_cpu.med, r.loop_cpu.med / r.count * 1000))
    end
  end
end

return M
