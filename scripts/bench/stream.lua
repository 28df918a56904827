-- The stream section: the same list-all over more and more records, judged on memory (peak
-- RSS does not grow with the count, and stays within its margin over the floor).

local util = require "bench.util"
local cfg = require "bench.config"
local mock = require "bench.mock"
local measure = require "bench.measure"
local results = require "bench.results"
local requests = require "bench.requests"

local format, concat = string.format, table.concat
local med, target, derive, mb = results.med, results.target, results.derive, util.mb

local M = {}

function M.run(m)
  local PAGE_SIZE = cfg.PAGE_SIZE
  util.log("stream")
  for _, count in ipairs(cfg.N.stream) do
    mock.reset(m)
    mock.seed(m, count)
    local runs = measure.interleaved({ {
      label = "stream " .. count, run = function()
        return measure.run({ cfg.HOST, cfg.WORKLOAD, "list", tostring(PAGE_SIZE) }, cfg.api_env(m),
                           "items=" .. count, m)
      end } }, cfg.runs, 0)
    results.add_row("stream" .. count, format("stream: %d records, page[size]=%d", count, PAGE_SIZE), runs[1])
  end
end

function M.derive()
  local counts = cfg.N.stream
  local first, last = results.by_key["stream" .. counts[1]], results.by_key["stream" .. counts[#counts]]
  if not (first and last) then return end
  local growth = last.rss.med - first.rss.med
  local per = {}
  for _, c in ipairs(counts) do per[#per + 1] = format("%d: %s MB", c, mb(med("stream" .. c, "rss"))) end
  derive("stream peak RSS by record count: " .. concat(per, ", "))
  local floor_rss = requests.floor_rss()
  if floor_rss then
    target(format("stream %d: peak RSS above the floor's (linked with libcurl)", counts[#counts]),
           format("%+.1f MB (%s vs %s MB)", (last.rss.med - floor_rss) / 1024, mb(last.rss.med), mb(floor_rss)),
           "≤ +8 MB", last.rss.med - floor_rss <= 8 * 1024)
  end
  target(format("stream: peak RSS growth from %d to %d records", counts[1], counts[#counts]),
         format("%+.2f MB", growth / 1024), "none (≤ +1 MB)", growth <= 1024)
  local extra = last.requests.med - first.requests.med
  derive(format("stream: client CPU per request %.3f ms in the requests of the %d-record run; "
                .. "marginal %.3f ms (CPU difference of the %d and %d runs over their %d extra requests)",
                last.loop_cpu.med / last.requests.med * 1000, counts[#counts],
                (last.cpu.med - first.cpu.med) / extra * 1000, counts[#counts], counts[1], extra))
end

return M
