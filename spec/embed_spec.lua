-- The Lua modules built into the binary and into telnyx.so live in a section no segment maps
-- (src/embed.h says why) and are read from the file when required. These specs hold the
-- layout, and what happens when the file changes under a running process.
local cli = require "spec.support.cli"

local SECTION = ".telnyx_lua"
local MODULE = cli.BUILD .. "/telnyx.so"

local function sh(cmdline)
  local r = cli.shell(cmdline)
  assert.are.equal(0, r.status, cmdline .. ": " .. r.stderr)
  return r.stdout
end

describe("embedded modules", function()
  local tmp
  before_each(function() tmp = cli.tmpdir() end)
  after_each(function() cli.rmdir(tmp) end)

  for _, file in ipairs({ cli.HOST, MODULE }) do
    it("sit in a section of " .. file:match("[^/]+$") .. " that no loaded segment maps", function()
      local q = cli.quote(file)
      local sections = sh("readelf -SW " .. q)
      local size = sections:match("%] " .. SECTION:gsub("%p", "%%%0") .. "%s+PROGBITS%s+%x+%s+%x+%s+(%x+)")
      assert.is_truthy(size, sections)
      assert.is_true(tonumber(size, 16) > 500000, "the section holds every module: " .. size)
      local mapping = sh("readelf -lW " .. q):match("Section to Segment mapping:(.*)$")
      assert.is_truthy(mapping)
      assert.is_nil(mapping:find(SECTION, 1, true), mapping)
    end)
  end

  it("still load after the binary's path is replaced while it runs", function()
    local bin = tmp .. "/telnyx-lua"
    sh("cp " .. cli.quote(cli.HOST) .. " " .. cli.quote(bin) .. " && printf 'garbage' > "
       .. cli.quote(tmp .. "/other"))
    local r = cli.run{ bin, "-e", string.format(
      "assert(os.rename(%q, %q)) local c = require('telnyx').new{} print(c.billing_groups, c.calls.dial ~= nil)",
      tmp .. "/other", bin) }
    assert.are.equal("", r.stderr)
    assert.are.equal("telnyx.Resource (billing_groups)\ttrue\n", r.stdout)
  end)

  it("load from a stripped binary", function()
    local bin = tmp .. "/telnyx-lua"
    sh("cp " .. cli.quote(cli.HOST) .. " " .. cli.quote(bin) .. " && strip " .. cli.quote(bin))
    local r = cli.run{ bin, "-e", "print(require('telnyx').new{}.billing_groups)" }
    assert.are.equal("", r.stderr)
    assert.are.equal("telnyx.Resource (billing_groups)\n", r.stdout)
  end)

  -- The shared module is read through the path it was loaded from, opened when it loads: a new
  -- build put at that path while a script runs is not read; a file whose section is not the
  -- index's is refused, naming the file.
  local function stock_lua(so_dir, code)
    return cli.run{ "lua5.4", "-e", string.format("package.cpath = %q\n%s", so_dir .. "/?.so", code) }
  end

  it("still load from telnyx.so after its path is replaced while it runs", function()
    local so = tmp .. "/telnyx.so"
    sh("cp " .. cli.quote(MODULE) .. " " .. cli.quote(so) .. " && printf 'garbage' > " .. cli.quote(tmp .. "/next.so"))
    local r = stock_lua(tmp, string.format([[
      local c = require("telnyx").new{}
      assert(os.rename(%q, %q))
      print(c.billing_groups, c.calls.dial ~= nil)]], tmp .. "/next.so", so))
    assert.are.equal("", r.stderr)
    assert.are.equal("telnyx.Resource (billing_groups)\ttrue\n", r.stdout)
  end)

  it("refuse a telnyx.so whose section is another build's, naming the file", function()
    local data = assert(cli.read_file(MODULE, "rb"))
    -- the section's header: the last copy (the index in .rodata holds one too)
    local at
    for found in data:gmatch("()TLXLUA01") do at = found end
    assert(at, "the section's magic")
    cli.write_file(tmp .. "/telnyx.so", data:sub(1, at + 7) .. string.char((data:byte(at + 8) + 1) % 256)
                                          .. data:sub(at + 9))
    local r = stock_lua(tmp, "print(pcall(require, 'telnyx'))")
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^false\t.*cannot read the Lua modules of " .. tmp:gsub("%p", "%%%0")
                   .. "/telnyx%.so: its %.telnyx_lua section is another build's", r.stdout)
  end)

  it("refuse a telnyx.so stripped of the section, saying so", function()
    sh("objcopy --remove-section " .. SECTION .. " " .. cli.quote(MODULE) .. " " .. cli.quote(tmp .. "/telnyx.so"))
    local r = stock_lua(tmp, "print(pcall(require, 'telnyx'))")
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^false\t.*telnyx%.so: no %.telnyx_lua section %(was it stripped of it%?%)", r.stdout)
  end)
end)
