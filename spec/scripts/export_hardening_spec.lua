-- scripts/export.lua against hostile data: CSV cells that a spreadsheet would run as formulas
-- are neutralised (OWASP: a leading single quote), and control sequences from the API never
-- reach a terminal (C1 controls are escaped in JSON always, since that is lossless; CSV to a
-- terminal shows control characters as \xNN).
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local scripts = require "spec.support.scripts"

local SCRIPT = cli.ROOT .. "/scripts/export.lua"
local API_KEY = "spec-key-export-hard-51c0"

describe("scripts/export.lua hardening", function()
  local m

  setup(function() m = mock.start { seed = 41 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  local function export(args, env)
    return scripts.run { script = SCRIPT, key = API_KEY, url = m.url, args = args, env = env }
  end

  local function create(name)
    local status = m:request("POST", "/billing_groups", { body = { name = name } })
    assert.is_true(status >= 200 and status < 300)
  end

  local FORMULAS = { "=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR" }

  it("csv: a cell starting with = + - @ tab or CR gets a leading single quote", function()
    for _, name in ipairs(FORMULAS) do create(name) end
    create("plain")
    local r = export { "billing_groups", "--format", "csv" }
    assert.are.equal(0, r.status, r.stderr)
    for _, name in ipairs(FORMULAS) do
      local quoted = "'" .. name
      local csv = quoted:find('[",\r\n]') and ('"' .. quoted:gsub('"', '""') .. '"') or quoted
      assert.truthy(r.stdout:find("," .. csv .. ",", 1, true) or r.stdout:find("," .. csv .. "\r\n", 1, true)
                    or r.stdout:find("\n" .. csv .. ",", 1, true), name .. "\n" .. r.stdout)
    end
    for line in r.stdout:gmatch("[^\n]+") do
      for cell in line:gmatch("[^,]+") do
        assert.is_nil(cell:find("^[=+@]"), "a formula cell: " .. cell)
      end
    end
    assert.truthy(r.stdout:find(",plain,", 1, true) or r.stdout:find(",plain\r", 1, true))
  end)

  it("--help says how CSV cells are neutralised", function()
    local r = export { "--help" }
    assert.are.equal(0, r.status)
    assert.matches("single quote", r.stdout, 1, true)
  end)

  it("json and jsonl: C1 controls are written as \\u escapes, and decode back", function()
    local evil = "a\194\155" .. "31mred\194\157x"
    create(evil)
    for _, format in ipairs { "jsonl", "json" } do
      local r = export { "billing_groups", "--format", format }
      assert.are.equal(0, r.status, r.stderr)
      assert.is_nil(r.stdout:find("\194[\128-\159]"), format .. ": a C1 control")
      assert.truthy(r.stdout:find("\\u009b", 1, true), r.stdout)
      local text = format == "jsonl" and r.stdout:match("[^\n]*" .. "31mred" .. "[^\n]*") or r.stdout
      local v = telnyx.json.decode(text)
      local found = false
      for _, item in ipairs(v.data and v.data or (v[1] and v or { v })) do
        found = found or item.name == evil
      end
      assert.is_true(found, "the name decodes back exactly")
    end
  end)

  it("csv to a terminal: control characters from the API are shown as \\xNN", function()
    create("\27]0;pwned\7\27[2Jcleared")
    local dir = cli.tmpdir()
    local out = dir .. "/typescript"
    local cmd = ("%s %s billing_groups --format csv"):format(cli.quote(cli.HOST), cli.quote(SCRIPT))
    local r = cli.run { "script", "-qefc", cmd, out,
                        env = { TELNYX_API_KEY = API_KEY, TELNYX_BASE_URL = m.url }, timeout = 30 }
    local seen = cli.read_file(out) or ""
    cli.rmdir(dir)
    assert.are.equal(0, r.status, r.stderr .. seen)
    assert.truthy(seen:find("cleared", 1, true), seen)
    -- "script" itself writes nothing but what the program wrote (-q)
    assert.is_nil(seen:find("\27", 1, true), "ESC reached the terminal")
    assert.is_nil(seen:find("\7", 1, true), "BEL reached the terminal")
    assert.truthy(seen:find("\\x1b]0;pwned", 1, true), seen)
  end)

  it("csv to a file keeps the data as it is (no escaping besides the formula quote)", function()
    create("tab\tinside")
    local r = export { "billing_groups", "--format", "csv" }
    assert.truthy(r.stdout:find("tab\tinside", 1, true), r.stdout)
  end)
end)
