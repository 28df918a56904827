-- The printed report (Markdown): the measurements table, the targets table, the derived
-- figures and notes, the machine, and the run's own line.

local util = require "bench.util"
local cfg = require "bench.config"
local results = require "bench.results"
local machine = require "bench.machine"
local instructions = require "bench.instructions"

local format, concat = string.format, table.concat
local ms, mb = util.ms, util.mb

local M = {}

local function spread(s, f)
  if not s then return "" end
  return format("%s (%s–%s)", f(s.med), f(s.min), f(s.max))
end

local function measurements_table()
  local t = {
    "| measurement | runs | wall ms: median (min–max) | client CPU ms | of it in requests ms | peak RSS MB | mock CPU ms | requests |",
    "|---|---:|---|---|---|---|---|---:|",
  }
  for _, r in ipairs(results.rows) do
    t[#t + 1] = format("| %s | %d | %s | %s | %s | %s | %s | %s |", r.label, #r.runs, spread(r.wall, ms),
                       spread(r.cpu, ms), spread(r.loop_cpu, ms), spread(r.rss, mb),
                       r.mock_cpu and ms(r.mock_cpu.med) or "", r.requests and format("%d", r.requests.med) or "")
  end
  return concat(t, "\n")
end

local function targets_table()
  local t = { "| target | measured | goal | result |", "|---|---|---|---|" }
  for _, x in ipairs(results.targets) do
    t[#t + 1] = format("| %s | %s | %s | %s |", x.what, x.measured, x.goal, x.met)
  end
  return concat(t, "\n")
end

-- The whole report, once the sections' derive functions have run; `seconds` the run took.
function M.text(seconds)
  local text = {
    "### Measurements",
    "",
    measurements_table(),
    "",
    "### Targets",
    "",
    targets_table(),
    "",
    "### Derived figures",
    "",
  }
  for _, line in ipairs(results.derived) do text[#text + 1] = "- " .. line end
  for _, line in ipairs(results.notes) do text[#text + 1] = "- " .. line end
  text[#text + 1] = ""
  for _, line in ipairs(instructions.lines(cfg.HOST, cfg.BASELINE_HOST)) do text[#text + 1] = line end
  text[#text + 1] = format("Machine: %s.", machine.describe())
  text[#text + 1] = ""
  text[#text + 1] = format("`make bench`%s, %d runs per measurement (startup %d), total %.0f s.",
                           cfg.quick and " --quick" or "", cfg.runs, cfg.startup_runs(), seconds)
  return concat(text, "\n") .. "\n"
end

return M
