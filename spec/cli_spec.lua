-- The host binary is a drop-in lua5.4: same options, same `arg`, same exit codes, proven with
-- real processes and, wherever the behaviour should be identical, against lua5.4 itself.
local cli = require "spec.support.cli"

local HOST = cli.HOST
local LUA = "lua5.4"

-- Runs the host (or the stock interpreter) with `args` and the cli.run options in `opts`.
local function run(prog, args, opts)
  local t = { prog }
  for i = 1, #args do t[#t + 1] = args[i] end
  for k, v in pairs(opts or {}) do t[k] = v end
  return cli.run(t)
end

local function host(args, opts) return run(HOST, args, opts) end
local function stock(args, opts) return run(LUA, args, opts) end

-- Stock lua5.4 output as telnyx-lua would print it: its program name swapped for ours and its
-- traceback (the host prints one only with TELNYX_LOG=debug) dropped.
local function as_host(s)
  s = s:gsub("lua5%.4", "telnyx-lua")
  return (s:gsub("\nstack traceback:\n.*$", "\n"))
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

local function assert_one_line(s)
  assert.is_true(s:match("^[^\n]+\n$") ~= nil, "expected exactly one line, got: " .. s)
end

local function assert_no_panic(r)
  assert.is_nil(r.stderr:find("PANIC", 1, true), r.stderr)
  assert.is_nil(r.signal)
  assert.is_true(r.status < 128, "status " .. r.status)
end

-- Same stdout, stderr (modulo program name and traceback) and status for host and lua5.4.
local function assert_same(args, opts)
  local s, h = stock(args, opts), host(args, opts)
  assert.are.equal(s.status, h.status)
  assert.are.equal(s.stdout, h.stdout)
  assert.are.equal(as_host(s.stderr), h.stderr)
  return h, s
end

-- Prints `arg` (every key, sorted) and `...` of the chunk it runs in, one value a line.
local DUMP = [[
local keys = {}
for k in pairs(arg) do keys[#keys + 1] = k end
table.sort(keys, function(a, b)
  if math.type(a) and math.type(b) then return a < b end
  return tostring(a) < tostring(b)
end)
for _, k in ipairs(keys) do io.write(string.format("arg[%s]=%q\n", tostring(k), arg[k])) end
io.write("#arg=", #arg, "\n")
io.write("#...=", select("#", ...), "\n")
for i = 1, select("#", ...) do io.write(string.format("...[%d]=%q\n", i, (select(i, ...)))) end
]]

local tmp

lazy_setup(function()
  assert(cli.read_file(HOST), "build/telnyx-lua is missing: run `make all` first")
  tmp = cli.tmpdir()
  local function put(name, text) cli.write_file(tmp .. "/" .. name, text) end
  put("dump.lua", DUMP)
  put("mymod.lua", 'return { name = "mymod", args = { ... } }\n')
  put("usex.lua", "return X + 1\n")
  put("badmod.lua", 'error("modfail")\n')
  put("init.lua", 'print("from init file")\n')
  put("-", 'print("the file named dash", ...)\n')
  put("-x", 'print("the file named -x", ...)\n')
  put("fails.lua", 'local x = 1\nerror("script failed")\n')
  put("syntax.lua", "local x =\n")
  put("setz.lua", "z = 3\n")
  put("bin.luac", string.dump(load('print("binary chunk ran")')))
  cli.write_file(tmp .. "/shebang", "#!/usr/bin/env telnyx-lua\n" .. DUMP, true)
end)

lazy_teardown(function()
  if tmp then cli.rmdir(tmp) end
end)

describe("spec.support.cli", function()
  it("quotes every argument and captures stdout, stderr and status separately", function()
    local weird = { "it's", "a b", "", "$HOME", "`x`", '"q"', "\\n", "*", ";exit 9" }
    local code = "for i = 1, #arg do io.write(arg[i], '|') end io.stderr:write('E') os.exit(7)"
    local args = { "-" }
    for _, w in ipairs(weird) do args[#args + 1] = w end
    local r = host(args, { stdin = code })
    assert.are.equal(table.concat(weird, "|") .. "|", r.stdout)
    assert.are.equal("E", r.stderr)
    assert.are.equal(7, r.status)
  end)

  it("feeds stdin, sets and unsets environment variables, and runs in cwd", function()
    local r = host({ "-e", "print(io.read('a'), os.getenv('A_B'), os.getenv('HOME'))" },
                   { stdin = "in'put", env = { A_B = "x 'y'", HOME = false }, cwd = tmp })
    assert.are.equal("in'put\tx 'y'\tnil\n", r.stdout)
    assert.are.equal(0, r.status)
    local pwd = host({ "-e", "print(io.popen('pwd'):read('l'))" }, { cwd = tmp })
    assert.are.equal(tmp .. "\n", pwd.stdout)
  end)
end)

describe("telnyx-lua as a drop-in lua5.4", function()
  describe("-e", function()
    it("runs several statements in order, joined or separate", function()
      local h = assert_same({ "-e", "io.write(1)", "-e", "io.write(2)", "-eio.write(3)" })
      assert.are.equal("123", h.stdout)
      assert.are.equal(0, h.status)
    end)

    it("stops at the first failing statement", function()
      local h = assert_same({ "-e", "print(1)", "-e", "error('two')", "-e", "print(3)", "dump.lua" },
                            { cwd = tmp })
      assert.are.equal("1\n", h.stdout)
      assert.are.equal("telnyx-lua: (command line):1: two\n", h.stderr)
      assert.are.equal(1, h.status)
    end)

    it("without an argument prints the usage and exits 1", function()
      for _, args in ipairs({ { "-e" }, { "-e", "-v" }, { "-l" } }) do
        local h = assert_same(args, { stdin = "print('stdin ran')" })
        assert.are.equal(1, h.status)
        assert.are.equal("", h.stdout)
        assert.matches("^telnyx%-lua: '" .. escape(args[1]) .. "' needs argument\n" ..
                       "usage: telnyx%-lua %[options%] %[script %[args%]%]\n", h.stderr)
      end
    end)
  end)

  describe("-l", function()
    it("requires a module into the global of the same name", function()
      local h = assert_same({ "-l", "mymod", "-e", "print(mymod.name, mymod.args[1])" },
                            { cwd = tmp, env = { LUA_PATH = "./?.lua" } })
      assert.are.equal("mymod\tmymod\n", h.stdout)
    end)

    it("-l g=mod stores the module in global g, joined or separate", function()
      for _, args in ipairs({ { "-l", "g=mymod" }, { "-lg=mymod" } }) do
        args[#args + 1] = "-e"
        args[#args + 1] = "print(g.name, mymod)"
        local h = assert_same(args, { cwd = tmp, env = { LUA_PATH = "./?.lua" } })
        assert.are.equal("mymod\tnil\n", h.stdout)
      end
    end)

    it("runs in command-line order with -e", function()
      local h = assert_same({ "-e", "X = 41", "-l", "usex", "-e", "print(usex)" },
                            { cwd = tmp, env = { LUA_PATH = "./?.lua" } })
      assert.are.equal("42\n", h.stdout)
    end)

    it("of a missing module exits 1 with require's message and runs nothing after", function()
      local h = assert_same({ "-l", "nosuchmod", "-e", "print('after')" })
      assert.are.equal(1, h.status)
      assert.are.equal("", h.stdout)
      assert.matches("^telnyx%-lua: module 'nosuchmod' not found:\n", h.stderr)
      assert.is_nil(h.stderr:find("stack traceback", 1, true))
    end)

    it("loads C modules (symbols exported to them)", function()
      local h = assert_same({ "-l", "cjson", "-e", "print(cjson.encode({1, 2}))" })
      assert.are.equal("[1,2]\n", h.stdout)
    end)
  end)

  describe("-i", function()
    -- History goes to the temp HOME; no terminal escapes, no inputrc, no account client.
    local function repl_env()
      return { HOME = tmp, TERM = "dumb", INPUTRC = "/dev/null", TELNYX_API_KEY = false }
    end

    it("with stdin not a terminal prints the banner and reads the REPL from stdin", function()
      local input = "x = 6 * 7\nprint(x)\nfor i = 1, 2 do\nprint(i)\nend\n"
      local s = stock({ "-i" }, { stdin = input, env = repl_env() })
      local h = host({ "-i" }, { stdin = input, env = repl_env() })
      assert.are.equal(0, h.status)
      assert.are.equal("", h.stderr)
      assert.matches("^telnyx%-lua %d+%.%d+%.%d+ %(Lua 5%.4[^\n]*\n", h.stdout)
      local function body(out) return (out:gsub("^[^\n]*\n", "")) end
      assert.are.equal(body(s.stdout), body(h.stdout))
      assert.matches("\n42\n", h.stdout)
    end)

    it("enters the REPL after running -e and the script", function()
      local h = host({ "-i", "-e", "y = 2", "setz.lua" },
                     { stdin = "print(y, z)\n", env = repl_env(), cwd = tmp })
      assert.are.equal(0, h.status)
      assert.matches("\n> print%(y, z%)\n2\t3\n", h.stdout)
    end)
  end)

  describe("-v", function()
    it("names telnyx-lua's version as semver and the same Lua 5.4 as lua5.4", function()
      local h = host({ "-v" }, { stdin = "print('stdin ran')" })
      local s = stock({ "-v" })
      assert.are.equal(0, h.status)
      assert.are.equal("", h.stderr)
      local version, release = h.stdout:match("^telnyx%-lua (%S+) %((Lua 5%.4%.%d+)%)\n$")
      assert.matches("^%d+%.%d+%.%d+$", version)
      assert.are.equal(s.stdout:match("^(Lua 5%.4%.%d+)"), release)
    end)

    it("prints the version before running -e, and then does not read stdin", function()
      local h = host({ "-v", "-e", "print(1)" }, { stdin = "print('stdin ran')" })
      assert.matches("^telnyx%-lua [^\n]+\n1\n$", h.stdout)
      local s = stock({ "-v", "-e", "print(1)" }, { stdin = "print('stdin ran')" })
      assert.matches("^Lua [^\n]+\n1\n$", s.stdout)
    end)
  end)

  describe("-E and LUA_INIT", function()
    it("runs LUA_INIT before -e, and not with -E", function()
      local env = { LUA_INIT = 'print"init"' }
      assert.are.equal("init\n2\n", assert_same({ "-e", "print(2)" }, { env = env }).stdout)
      assert.are.equal("2\n", assert_same({ "-E", "-e", "print(2)" }, { env = env }).stdout)
    end)

    it("prefers LUA_INIT_5_4 over LUA_INIT, and -E ignores it too", function()
      local env = { LUA_INIT = 'print"init"', LUA_INIT_5_4 = 'print"init54"' }
      assert.are.equal("init54\n2\n", assert_same({ "-e", "print(2)" }, { env = env }).stdout)
      assert.are.equal("2\n", assert_same({ "-E", "-e", "print(2)" }, { env = env }).stdout)
    end)

    it("LUA_INIT=@file runs the file; a missing file exits 1", function()
      local h = assert_same({ "-e", "print(2)" }, { env = { LUA_INIT = "@init.lua" }, cwd = tmp })
      assert.are.equal("from init file\n2\n", h.stdout)
      local m = assert_same({ "-e", "print(2)" }, { env = { LUA_INIT = "@nofile.lua" }, cwd = tmp })
      assert.are.equal(1, m.status)
      assert.are.equal("telnyx-lua: cannot open nofile.lua: No such file or directory\n", m.stderr)
    end)

    it("an error in LUA_INIT exits 1 before anything else runs", function()
      local h = assert_same({ "-e", "print(2)" }, { env = { LUA_INIT = 'error("initfail")' } })
      assert.are.equal(1, h.status)
      assert.are.equal("", h.stdout)
      assert.are.equal("telnyx-lua: LUA_INIT:1: initfail\n", h.stderr)
    end)

    it("-E ignores LUA_PATH and LUA_CPATH", function()
      local env = { LUA_PATH = "/nonexistent/?.lua", LUA_CPATH = "/nonexistent/?.so" }
      local code = "print(package.path) print(package.cpath)"
      local with = assert_same({ "-e", code }, { env = env })
      assert.are.equal("/nonexistent/?.lua\n/nonexistent/?.so\n", with.stdout)
      local without = assert_same({ "-E", "-e", code }, { env = env })
      assert.is_nil(without.stdout:find("nonexistent", 1, true))
      assert.matches("/usr/share/lua/5%.4/%?%.lua", without.stdout)
    end)
  end)

  describe("-W", function()
    it("turns warnings on: warn prints 'Lua warning: ...' on stderr only with -W", function()
      local on = assert_same({ "-W", "-e", 'warn("x")' })
      assert.are.equal("Lua warning: x\n", on.stderr)
      assert.are.equal("", on.stdout)
      local off = assert_same({ "-e", 'warn("x")' })
      assert.are.equal("", off.stderr)
      assert.are.equal(0, off.status)
    end)

    it("takes effect where it stands among -e options", function()
      local h = assert_same({ "-e", 'warn("a")', "-W", "-e", 'warn("b")' })
      assert.are.equal("Lua warning: b\n", h.stderr)
    end)

    it("prints a warning given in pieces as one line, and obeys @off and @on", function()
      local h = assert_same({ "-W", "-e", 'warn("a", "b", "c") warn("@off") warn("hidden") '
                              .. 'warn("@on") warn("@unknown") warn("d")' })
      assert.are.equal("Lua warning: abc\nLua warning: d\n", h.stderr)
      local off = assert_same({ "-e", 'warn("@on") warn("e")' })
      assert.are.equal("Lua warning: e\n", off.stderr)
    end)
  end)

  describe("-- and -", function()
    it("-- stops options: '-- -x a' runs the script named -x", function()
      local h = assert_same({ "--", "-x", "a" }, { cwd = tmp })
      assert.are.equal("the file named -x\ta\n", h.stdout)
    end)

    it("-- - runs the file named '-', not stdin", function()
      local h = assert_same({ "--", "-", "a" }, { cwd = tmp, stdin = "print('stdin ran')" })
      assert.are.equal("the file named dash\ta\n", h.stdout)
    end)

    it("- runs stdin as the script, with its arguments", function()
      local h = assert_same({ "-", "a", "b" }, { stdin = "print(arg[0], #arg, ...)" })
      assert.are.equal("-\t2\ta\tb\n", h.stdout)
    end)

    it("-- alone with stdin not a terminal runs stdin", function()
      local h = assert_same({ "--" }, { stdin = "print('stdin ran', arg[0] ~= nil, arg[1])" })
      assert.are.equal("stdin ran\ttrue\t--\n", h.stdout)
    end)

    it("an unknown option exits 1 with the usage on stderr and runs nothing", function()
      for _, bad in ipairs({ "-x", "-vx", "--x", "-Ex", "-Wx", "-ix" }) do
        local h = assert_same({ bad, "dump.lua" }, { cwd = tmp, stdin = "print('stdin ran')" })
        assert.are.equal(1, h.status)
        assert.are.equal("", h.stdout)
        assert.matches("^telnyx%-lua: unrecognized option '" .. escape(bad) .. "'\nusage: ",
                       h.stderr)
        assert.matches("\n  %-W        turn warnings on\n", h.stderr)
      end
    end)
  end)

  describe("arg", function()
    -- The interpreter's own name differs; everything else must be byte for byte lua5.4's.
    local function dump(prog, args, stdin)
      local r = run(prog, args, { cwd = tmp, stdin = stdin })
      assert.are.equal("", r.stderr)
      assert.are.equal(0, r.status)
      return (r.stdout:gsub('"' .. escape(prog) .. '"', '"<interpreter>"'))
    end

    local cases = {
      { "dump.lua" },
      { "dump.lua", "a", "b c", "", "-e", "--", "-" },
      { "./dump.lua", "it's" },
      { "-e", "x = 1", "dump.lua", "a" },
      { "-W", "-E", "-lstring", "-e", "y = 2", "--", "dump.lua", "-x" },
      { "-l", "s=string", "dump.lua" },
      { "-", "a", "b" },
      { "-e", "dofile 'dump.lua'" },
      { "-e", "dofile 'dump.lua'", "-W", "--" },
      { "--", "dump.lua", "--", "-" },
    }
    for _, args in ipairs(cases) do
      local stdin = args[1] == "-" and DUMP or nil
      it("is built as lua5.4 builds it for: " .. table.concat(args, " "), function()
        local h = dump(HOST, args, stdin)
        assert.matches("arg%[0%]=", h)
        assert.are.equal(dump(LUA, args, stdin), h)
      end)
    end

    it("puts the script at 0, its arguments at 1..n and the interpreter below", function()
      local h = dump(HOST, { "-e", "x = 1", "dump.lua", "a", "" })
      assert.are.equal(table.concat({
        'arg[-3]="<interpreter>"', 'arg[-2]="-e"', 'arg[-1]="x = 1"', 'arg[0]="dump.lua"',
        'arg[1]="a"', 'arg[2]=""', "#arg=2", "#...=2", '...[1]="a"', '...[2]=""', "",
      }, "\n"), h)
    end)

    it("passes many arguments to the script as `...`", function()
      local args = { "-" }
      for i = 1, 500 do args[#args + 1] = tostring(i) end
      local h = host(args, { stdin = "io.write(select('#', ...), ' ', (select(500, ...)))" })
      assert.are.equal("500 500", h.stdout)
    end)

    it("a script fails cleanly when -e has removed `arg`", function()
      local h = assert_same({ "-e", "arg = nil", "dump.lua" }, { cwd = tmp })
      assert.are.equal(1, h.status)
      assert.are.equal("telnyx-lua: 'arg' is not a table\n", h.stderr)
    end)
  end)

  describe("exit status", function()
    it("is 0 on success with nothing on stderr", function()
      local h = assert_same({ "-e", "print('ok')" })
      assert.are.equal(0, h.status)
      assert.are.equal("ok\n", h.stdout)
      assert.are.equal("", h.stderr)
    end)

    it("is 1 on an uncaught error, with exactly one line on stderr", function()
      local h = assert_same({ "-e", "error('boom')" })
      assert.are.equal(1, h.status)
      assert_one_line(h.stderr)
      assert.are.equal("telnyx-lua: (command line):1: boom\n", h.stderr)
    end)

    it("reports a script's error with its file and line", function()
      local h = assert_same({ "fails.lua" }, { cwd = tmp })
      assert.are.equal(1, h.status)
      assert.are.equal("telnyx-lua: fails.lua:2: script failed\n", h.stderr)
    end)

    it("error({}) from stdin exits 1 with a one-line message and no PANIC", function()
      local h = assert_same({ "-" }, { stdin = "error({})\n" })
      assert_no_panic(h)
      assert.are.equal(1, h.status)
      assert.are.equal("telnyx-lua: (error object is a table value)\n", h.stderr)
    end)

    it("prints an error object through its __tostring", function()
      local obj = "setmetatable({}, { __tostring = function() return 'custom: %s' end })"
      local h = assert_same({ "-e", "error(" .. obj:format("boom") .. ")" })
      assert.are.equal(1, h.status)
      assert.are.equal("telnyx-lua: custom: boom\n", h.stderr)
      local nonstring = "error(setmetatable({}, { __tostring = function() return 42 end }))"
      assert.are.equal("telnyx-lua: (error object is a table value)\n",
                       assert_same({ "-e", nonstring }).stderr)
    end)

    for _, case in ipairs({
      { "os.exit(3)", 3 }, { "os.exit(true)", 0 }, { "os.exit(false)", 1 },
      { "os.exit(0, true)", 0 }, { "os.exit(5, true)", 5 }, { "io.write('x') os.exit()", 0 },
    }) do
      it("follows " .. case[1] .. " (status " .. case[2] .. ")", function()
        local h = assert_same({ "-e", case[1], "-e", "print('not reached')" })
        assert.are.equal(case[2], h.status)
        assert.is_nil(h.stdout:find("not reached", 1, true))
      end)
    end

    it("is 1 on a syntax error, with the location", function()
      local e = assert_same({ "-e", "x = = 1" })
      assert.are.equal(1, e.status)
      assert.are.equal("telnyx-lua: (command line):1: unexpected symbol near '='\n", e.stderr)
      local f = assert_same({ "syntax.lua" }, { cwd = tmp })
      assert.are.equal(1, f.status)
      assert.are.equal("telnyx-lua: syntax.lua:2: unexpected symbol near <eof>\n", f.stderr)
    end)

    it("is 1 when the script cannot be opened", function()
      local h = assert_same({ "nofile.lua" }, { cwd = tmp })
      assert.are.equal(1, h.status)
      assert.are.equal("telnyx-lua: cannot open nofile.lua: No such file or directory\n", h.stderr)
    end)

    it("adds a traceback only when TELNYX_LOG=debug", function()
      local args = { "fails.lua" }
      local debug = host(args, { cwd = tmp, env = { TELNYX_LOG = "debug" } })
      assert.are.equal(1, debug.status)
      assert.matches("^telnyx%-lua: fails%.lua:2: script failed\nstack traceback:\n", debug.stderr)
      assert.matches("fails%.lua:2: in main chunk", debug.stderr)
      for _, level in ipairs({ false, "info", "" }) do
        local plain = host(args, { cwd = tmp, env = { TELNYX_LOG = level } })
        assert.are.equal("telnyx-lua: fails.lua:2: script failed\n", plain.stderr)
      end
      local obj = host({ "-e", "error({})" }, { env = { TELNYX_LOG = "debug" } })
      assert.matches("^telnyx%-lua: %(error object is a table value%)\nstack traceback:\n",
                     obj.stderr)
    end)

    it("is 1 with 'interrupted!' on SIGINT while Lua runs", function()
      local ready = tmp .. "/ready"
      os.remove(ready)
      -- The loop ends by itself after 10 s of CPU, so a host that ignores SIGINT fails, not hangs.
      local code = string.format("io.open(%q, 'w'):close() while os.clock() < 10 do end", ready)
      local script = table.concat({
        cli.quote(HOST) .. " -e " .. cli.quote(code) .. " &",
        "pid=$!",
        "n=0; while [ ! -e " .. cli.quote(ready) .. " ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done",
        "kill -INT $pid",
        "wait $pid",
      }, "\n")
      local r = cli.shell(script)
      assert.are.equal(1, r.status)
      assert.matches("^telnyx%-lua: [^\n]*interrupted!\n$", r.stderr)
    end)
  end)

  describe("stdin", function()
    it("runs as the script when there is no script and it is not a terminal", function()
      local h = assert_same({}, { stdin = "print('from stdin', arg[0] ~= nil, #arg)\n" })
      assert.are.equal("from stdin\ttrue\t0\n", h.stdout)
      assert.are.equal(0, h.status)
    end)

    -- Deliberate difference: lua.c ignores the status of a piped stdin script (exit 0); the host
    -- keeps its rule "1 on an uncaught error" there too.
    it("exits 1 on an error in a piped stdin script, with the same message as lua5.4", function()
      local input = "print('from stdin')\nerror('late')\nprint('not reached')\n"
      local h, s = host({}, { stdin = input }), stock({}, { stdin = input })
      assert.are.equal(1, h.status)
      assert.are.equal(s.stdout, h.stdout)
      assert.are.equal("from stdin\n", h.stdout)
      assert.are.equal(as_host(s.stderr), h.stderr)
      assert.are.equal("telnyx-lua: stdin:2: late\n", h.stderr)
    end)

    it("refuses a precompiled chunk (text mode only) that lua5.4 would run", function()
      local bin = tmp .. "/bin.luac"
      local s = stock({}, { stdin_file = bin })
      assert.are.equal("binary chunk ran\n", s.stdout) -- the chunk itself is valid
      for _, args in ipairs({ {}, { "-" }, { "bin.luac" } }) do
        local h = host(args, { stdin_file = bin, cwd = tmp })
        assert.are.equal(1, h.status)
        assert.are.equal("", h.stdout)
        assert.are.equal("telnyx-lua: attempt to load a binary chunk (mode is 't')\n", h.stderr)
      end
    end)

    it("refuses a precompiled LUA_INIT=@file too", function()
      local h = host({ "-e", "print(1)" }, { cwd = tmp, env = { LUA_INIT = "@bin.luac" } })
      assert.are.equal(1, h.status)
      assert.are.equal("", h.stdout)
      assert.matches("binary chunk", h.stderr)
    end)
  end)

  describe("shebang", function()
    it("runs a '#!/usr/bin/env telnyx-lua' script directly, with its arguments", function()
      local h = cli.run{ "./shebang", "a", "b c", cwd = tmp,
                         env = { PATH = cli.BUILD .. ":" .. os.getenv("PATH") } }
      assert.are.equal("", h.stderr)
      assert.are.equal(0, h.status)
      assert.are.equal(table.concat({
        'arg[-1]="telnyx-lua"', 'arg[0]="./shebang"', 'arg[1]="a"', 'arg[2]="b c"',
        "#arg=2", "#...=2", '...[1]="a"', '...[2]="b c"', "",
      }, "\n"), h.stdout)
    end)
  end)

  describe("the telnyx module", function()
    it("is required in the host with no path set-up, from the preload table", function()
      local h = host({ "-e", "local t, from = require 'telnyx' print(t.VERSION, from)" },
                     { cwd = tmp })
      assert.are.equal(0, h.status)
      local version, from = h.stdout:match("^(%S+)\t(%S+)\n$")
      assert.matches("^%d+%.%d+%.%d+$", version)
      assert.are.equal(":preload:", from)
    end)

    it("loads in stock lua5.4 from build/telnyx.so with the same VERSION as the host's", function()
      local code = "local t, from = require 'telnyx' print(t.VERSION, from)"
      local s = stock({ "-e", 'package.cpath = "build/?.so;" .. package.cpath', "-e", code },
                      { cwd = cli.ROOT })
      assert.are.equal("", s.stderr)
      local sversion, from = s.stdout:match("^(%S+)\t(%S+)\n$")
      assert.are.equal("build/telnyx.so", from)
      local h = host({ "-e", "print(require('telnyx').VERSION)" })
      assert.are.equal(sversion .. "\n", h.stdout)
      local v = host({ "-v" })
      assert.are.equal(sversion, v.stdout:match("^telnyx%-lua (%S+) "))
      local makefile = assert(cli.read_file(cli.ROOT .. "/Makefile"))
      assert.are.equal(makefile:match("\nVERSION%s*:=%s*(%S+)"), sversion)
    end)

    it("is embedded: no telnyx file on disk is found, yet every telnyx module loads", function()
      local code = [[
        local _, from = require "telnyx"
        print("telnyx", from, (package.searchpath("telnyx", package.path)),
              (package.searchpath("telnyx", package.cpath)))
        for name in io.read("a"):gmatch("[^\n]+") do
          local ok, err = pcall(require, name)
          print(name, ok and "ok" or tostring(err),
                (package.searchpath(name, package.path)), (package.searchpath(name, package.cpath)))
        end
      ]]
      -- the module names of every file under lua/telnyx/, given on stdin
      local ls = cli.run{ "find", cli.ROOT .. "/lua/telnyx", "-name", "*.lua" }
      local names = {}
      for file in ls.stdout:gmatch("/lua/(telnyx/[%w_/]+)%.lua\n") do names[#names + 1] = file:gsub("/", ".") end
      table.sort(names)
      assert.is_true(#names > 10)
      local h = host({ "-e", code }, { cwd = tmp, stdin = table.concat(names, "\n") .. "\n",
                     env = { LUA_PATH = "/nonexistent/?.lua", LUA_CPATH = "/nonexistent/?.so" } })
      assert.are.equal("", h.stderr)
      assert.are.equal(0, h.status)
      local lines = cli.lines(h.stdout)
      assert.are.equal("telnyx\t:preload:\tnil\tnil", lines[1])
      assert.are.equal(#names + 1, #lines)
      for i = 2, #lines do
        assert.are.equal(names[i - 1] .. "\tok\tnil\tnil", lines[i])
      end
    end)

    it("loads its modules with -E and no environment at all", function()
      local h = host({ "-E", "-e", "print(require('telnyx').VERSION)" },
                     { cwd = tmp, env = { LUA_PATH = "/nonexistent/?.lua", HOME = false } })
      assert.are.equal(0, h.status)
      assert.matches("^%d+%.%d+%.%d+\n$", h.stdout)
    end)
  end)

  describe("busted", function()
    it("runs inside the host", function()
      local h = host({ "/usr/bin/busted", "--version" })
      assert.are.equal("", h.stderr)
      assert.are.equal(0, h.status)
      assert.matches("^%d+%.%d+[%.%d]*\n$", h.stdout)
    end)
  end)

  describe("never PANIC", function()
    it("on an error in a -l module", function()
      local h = assert_same({ "-l", "badmod", "-e", "print('after')" },
                            { cwd = tmp, env = { LUA_PATH = "./?.lua" } })
      assert_no_panic(h)
      assert.are.equal(1, h.status)
      assert.are.equal("", h.stdout)
      assert.are.equal("telnyx-lua: ./badmod.lua:1: modfail\n", h.stderr)
    end)

    it("on errors in -e with nil and other non-string values", function()
      for _, case in ipairs({
        { "error()", "nil" }, { "error(nil)", "nil" }, { "error(true)", "boolean" },
        { "error(print)", "function" }, { "error(coroutine.create(print))", "thread" },
      }) do
        local h = assert_same({ "-e", case[1] })
        assert_no_panic(h)
        assert.are.equal(1, h.status)
        assert.are.equal("telnyx-lua: (error object is a " .. case[2] .. " value)\n", h.stderr)
      end
      local n = assert_same({ "-e", "error(42)" })
      assert.are.equal("telnyx-lua: 42\n", n.stderr)
    end)

    it("on an error inside __gc: silent, or a warning with -W", function()
      local code = "setmetatable({}, { __gc = function() error('in gc') end }) " ..
                   "collectgarbage() collectgarbage() print('after')"
      local quiet = assert_same({ "-e", code })
      assert_no_panic(quiet)
      assert.are.equal(0, quiet.status)
      assert.are.equal("after\n", quiet.stdout)
      assert.are.equal("", quiet.stderr)
      local loud = assert_same({ "-W", "-e", code })
      assert.are.equal(0, loud.status)
      assert.are.equal("Lua warning: error in __gc ((command line):1: in gc)\n", loud.stderr)
    end)

    it("on an error inside __gc while the state closes at exit", function()
      local code = "G = setmetatable({}, { __gc = function() error('at close') end })"
      for _, extra in ipairs({ "", "os.exit(0, true)" }) do
        local h = assert_same({ "-W", "-e", code, "-e", extra })
        assert_no_panic(h)
        assert.are.equal(0, h.status)
        assert.are.equal("Lua warning: error in __gc ((command line):1: at close)\n", h.stderr)
      end
    end)

    it("on deep recursion: a stack overflow error, exit 1", function()
      local h = assert_same({ "-e", "local function f() return 1 + f() end f()" })
      assert_no_panic(h)
      assert.are.equal(1, h.status)
      assert_one_line(h.stderr)
      assert.matches("^telnyx%-lua: %(command line%):1: stack overflow", h.stderr)
    end)

    it("on C stack overflow through metamethods", function()
      local code = "local t = setmetatable({}, { __index = function(t, k) return t[k] end }) " ..
                   "return t.x"
      local h = assert_same({ "-e", code })
      assert_no_panic(h)
      assert.are.equal(1, h.status)
      assert.matches("stack overflow\n$", h.stderr)
    end)

    it("when the error object's __tostring itself fails", function()
      local code = "error(setmetatable({}, { __tostring = function() error('nested') end }))"
      local h = host({ "-e", code })
      assert_no_panic(h)
      assert.are.equal(1, h.status)
      assert.matches("^telnyx%-lua: ", h.stderr)
      local debug = host({ "-e", code }, { env = { TELNYX_LOG = "debug" } })
      assert_no_panic(debug)
      assert.are.equal(1, debug.status)
    end)
  end)
end)
