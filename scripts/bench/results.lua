-- What the run found: the measurement rows (each a label and its runs, with the median, min
-- and max of every figure), the targets judged, the derived figures and the notes printed
-- under the tables.

local util = require "bench.util"
local cfg = require "bench.config"

local M = {
  rows = {},     -- measurement rows, in order
  by_key = {},   -- key -> row
  targets = {},  -- {what, measured, goal, met}
  derived = {},  -- lines printed under the tables, from the sections' derive functions
  notes = {},    -- lines printed after those
}

local FIELDS = { "wall", "cpu", "loop_cpu", "first_cpu", "after_first_cpu", "rss", "mock_cpu", "requests" }

-- A row of the measurements table: `runs` as measure.run returned them; extra fields are
-- copied into the row.
function M.add_row(key, label, runs, extra)
  local row = { key = key, label = label, runs = runs }
  for _, f in ipairs(FIELDS) do
    if runs[1][f] then
      local xs = util.col(runs, f)
      local lo, hi = util.minmax(xs)
      row[f] = { med = util.median(xs), min = lo, max = hi }
    end
  end
  for k, v in pairs(extra or {}) do row[k] = v end
  M.rows[#M.rows + 1] = row
  M.by_key[key] = row
  return row
end

-- The median of `field` in row `key`, nil when there is no such row or figure.
function M.med(key, field)
  local row = M.by_key[key]
  return row and row[field] and row[field].med
end

-- A line of the targets table; met is true, false, or nil when not judged.
function M.target(what, measured, goal, met)
  if cfg.quick then met = nil end -- --quick sizes are not the targets' sizes
  M.targets[#M.targets + 1] = { what = what, measured = measured, goal = goal,
                                met = met == nil and "n/a" or (met and "met" or "**missed**") }
end

-- A derived figure (a line under the tables).
function M.derive(line) M.derived[#M.derived + 1] = line end

function M.note(line) M.notes[#M.notes + 1] = line end

return M
