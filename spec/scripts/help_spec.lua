-- Every script users run (scripts/*.lua, the top level only) answers --help with exit status 0
-- and says what it does. The list is read from the directory, so a new script is covered
-- without touching this file.
local cli = require "spec.support.cli"

local DIR = cli.ROOT .. "/scripts"

local function top_level_scripts()
  local names = {}
  local p = assert(io.popen("ls -1 " .. cli.quote(DIR)))
  for name in p:lines() do
    if name:match("%.lua$") then names[#names + 1] = name end
  end
  p:close()
  table.sort(names)
  return names
end

-- A line of prose saying what the script does: a capitalised sentence of a few words ending in
-- a full stop, not the usage line and not an option's description (those are indented).
local function description(text)
  for line in text:gmatch("[^\n]+") do
    if line:match("^%u") and not line:match("^Usage:") and line:match("%.$")
       and select(2, line:gsub("%S+", "")) >= 4 then
      return line
    end
  end
  return nil
end

describe("scripts/*.lua --help", function()
  local names = top_level_scripts()

  it("finds the scripts users run", function()
    for _, want in ipairs({ "demo.lua", "export.lua", "mock-server.lua", "provision-webrtc-user.lua",
                            "rotate-ip-allowlist.lua" }) do
      assert.is_truthy(table.concat(names, " "):find(want, 1, true), want .. " is missing")
    end
  end)

  for _, name in ipairs(names) do
    it(name .. " exits 0 with a usage line and a description", function()
      -- from another directory, with no API settings: --help needs neither
      local r = cli.run{ cli.HOST, DIR .. "/" .. name, "--help", cwd = "/",
                         env = { TELNYX_API_KEY = false, TELNYX_BASE_URL = false } }
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("", r.stderr)
      assert.matches("^Usage: " .. name:gsub("%p", "%%%0"), r.stdout)
      assert.is_truthy(description(r.stdout), "no description line in:\n" .. r.stdout)
    end)
  end
end)
