-- The REPL's history file against keys typed in any form and against a planted symlink: a
-- statement that may hold the API key never reaches the file, whatever its spelling, and the
-- history never follows a symlink (it says so once and goes on without history).
local cli = require "spec.support.cli"
local pty = require "spec.support.pty"

local KEY = "KEY0123456789abcdefHIST"
local HISTORY = ".telnyx_lua_history"

describe("REPL history", function()
  local terms, dirs = {}, {}

  after_each(function()
    for _, t in ipairs(terms) do t:stop() end
    for _, d in ipairs(dirs) do cli.rmdir(d) end
    terms, dirs = {}, {}
  end)

  local function start_repl(home)
    if not home then
      home = cli.tmpdir()
      dirs[#dirs + 1] = home
    end
    local t = pty.start { cli.HOST, env = { HOME = home, TELNYX_API_KEY = KEY, NO_COLOR = "1",
                                            TELNYX_BASE_URL = "http://127.0.0.1:9/v2", INPUTRC = "/dev/null",
                                            COLUMNS = false, TELNYX_CUSTOM_HEADERS = false }, width = 160 }
    terms[#terms + 1] = t
    t.home = home
    t:wait_for("\n> ", { since = 0 })
    return t
  end

  local function run(t, line, expect)
    local mark = t:mark()
    t:line(line)
    return t:wait_for(expect, { since = mark })
  end

  local function quit(t)
    t:keys("C-d")
    assert.are.equal(0, t:wait_exit())
  end

  it("keeps out every statement that may hold a key, in any spelling or over several lines", function()
    local t = start_repl()
    local secrets = {
      { 'c1 = telnyx.new{["api_key"]="K1lit-aaaa"}', "K1lit-aaaa" },
      { "o = {}; o['api_key']='K3lit-cccc'", "K3lit-cccc" },
      { 'rawset(o, "api".."_key", "K4lit-dddd")', "K4lit-dddd" },
      { 'o[("api_"):lower() .. "key"] = "K5lit-eeee"', "K5lit-eeee" },
      { 'o[("API_"):lower() .. "KEY"] = "K6lit-ffff"', "K6lit-ffff" },
      { 'tok = "KEY0199TOKENlike7Qx9Zb2w"', "KEY0199TOKENlike7Qx9Zb2w" },
      { "tok2 = 'sk_live_51HxYzAbCdEf0123456789'", "sk_live_51HxYzAbCdEf0123456789" },
      { '=#"' .. KEY .. '"', KEY },
    }
    run(t, "marker_before = 1", "\n> ")
    for _, s in ipairs(secrets) do run(t, s[1], "\n> ") end
    -- a key split over two lines: the statement is only complete on the second
    run(t, "c2 = telnyx.new{api_key =", ">> ")
    run(t, '"K2lit-bbbb"}', "\n> ")
    run(t, "c7 = telnyx.new{", ">> ")
    run(t, '  api_key', ">> ")
    run(t, '  = "K7lit-gggg" }', "\n> ")
    run(t, 'id = "f5586561-8ff0-4291-a0ac-84fe544797bd"', "\n> ")
    run(t, "marker_after = 2", "\n> ")
    quit(t)
    local history = assert(cli.read_file(t.home .. "/" .. HISTORY))
    for _, s in ipairs(secrets) do
      assert.is_nil(history:find(s[2], 1, true), s[1] .. " reached the history:\n" .. history)
    end
    for _, v in ipairs { "K2lit-bbbb", "K7lit-gggg", "api_key", "API_" } do
      assert.is_nil(history:find(v, 1, true), v .. " reached the history:\n" .. history)
    end
    assert.truthy(history:find("marker_before = 1\n", 1, true), history)
    assert.truthy(history:find("marker_after = 2\n", 1, true), history)
    -- ids are not keys: kept
    assert.truthy(history:find("f5586561-8ff0-4291-a0ac-84fe544797bd", 1, true), history)
  end)

  it("refuses a history file that is a symlink: the target is not read, written, chmod'ed or truncated", function()
    local home = cli.tmpdir()
    dirs[#dirs + 1] = home
    local lines = {}
    for i = 1, 1200 do lines[i] = "precious line " .. i end
    local target = cli.write_file(home .. "/target", table.concat(lines, "\n") .. "\n")
    assert(os.execute("chmod 644 " .. cli.quote(target)))
    assert(os.execute("ln -s target " .. cli.quote(home .. "/" .. HISTORY)))
    local before = cli.read_file(target)
    local t = start_repl(home)
    assert.truthy(t:screen():find("history", 1, true), t:screen())
    run(t, "marker = 1", "\n> ")
    run(t, "marker = 2", "\n> ")
    local screen = t:screen()
    local _, says = screen:gsub("not following", "")
    assert.are.equal(1, says, screen)
    quit(t)
    assert.are.equal(before, cli.read_file(target))
    assert.are.equal("644\n", cli.run { "stat", "-c", "%a", target }.stdout)
    assert.are.equal("link", cli.run { "sh", "-c", "test -L " .. cli.quote(home .. "/" .. HISTORY) .. " && echo link" }.stdout:match("%a+"))
  end)

  it("does not create the target of a dangling symlink", function()
    local home = cli.tmpdir()
    dirs[#dirs + 1] = home
    assert(os.execute("ln -s nowhere " .. cli.quote(home .. "/" .. HISTORY)))
    local t = start_repl(home)
    run(t, "marker = 1", "\n> ")
    quit(t)
    assert.is_nil(cli.read_file(home .. "/nowhere"))
  end)

  it("still writes a regular history file, 0600, and trims it to 1,000 lines", function()
    local home = cli.tmpdir()
    dirs[#dirs + 1] = home
    local lines = {}
    for i = 1, 1100 do lines[i] = "old_" .. i .. " = 1" end
    cli.write_file(home .. "/" .. HISTORY, table.concat(lines, "\n") .. "\n")
    local t = start_repl(home)
    run(t, "marker_new = 1", "\n> ")
    quit(t)
    local history = cli.read_file(home .. "/" .. HISTORY)
    local n = select(2, history:gsub("\n", ""))
    assert.are.equal(1000, n)
    assert.truthy(history:find("marker_new = 1\n$"), history:sub(-200))
    assert.are.equal("600\n", cli.run { "stat", "-c", "%a", home .. "/" .. HISTORY }.stdout)
  end)
end)
