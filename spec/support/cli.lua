-- Runs real processes for the specs: argv quoted for /bin/sh, stdin from a string, stdout and
-- stderr captured separately into temp files, the exit status returned as a number.
--
--   local cli = require "spec.support.cli"
--   local r = cli.run{ cli.HOST, "-e", "print(1)", stdin = "...", env = { TELNYX_LOG = "debug" } }
--   -- r.stdout, r.stderr (strings), r.status (number), r.signal (number or nil)
--
-- Options of cli.run (all optional besides the argv at 1..n):
--   stdin       string fed to the process; without it stdin is /dev/null (never the terminal)
--   stdin_file  path of a file to use as stdin instead
--   env         { NAME = "value" } sets, { NAME = false } unsets; every other variable is
--               inherited, except the ones in cli.UNSET_BY_DEFAULT (LUA_INIT, LUA_INIT_5_4,
--               TELNYX_LOG), which are unset unless `env` names them, so runs are reproducible
--   inherit_env true: do not unset cli.UNSET_BY_DEFAULT
--   cwd         directory to run in (default: the current one)
--   timeout     seconds before the process is killed (default 60; false: no limit); a
--               timed-out process reports status 124 and r.timed_out = true
-- A process killed by signal N reports r.signal = N and r.status = 128 + N (abort() is 134).
local M = {}

M.UNSET_BY_DEFAULT = { "LUA_INIT", "LUA_INIT_5_4", "TELNYX_LOG" }
M.DEFAULT_TIMEOUT = 60

-- Quotes one word for /bin/sh: single quotes, each embedded ' written as '\''.
function M.quote(s)
  if type(s) == "number" then s = tostring(s) end
  if type(s) ~= "string" then
    error("cli.quote: expected a string, got " .. type(s), 2)
  end
  if s:find("\0", 1, true) then
    error("cli.quote: a process argument cannot hold a NUL byte", 2)
  end
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

local function read_file(path, mode)
  local f, err = io.open(path, mode or "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end

local function write_file(path, data, executable)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  assert(f:close())
  if executable then
    local ok = os.execute("chmod +x " .. M.quote(path))
    assert(ok, "cli.write_file: chmod failed for " .. path)
  end
  return path
end

M.read_file = read_file
-- Writes `data` to `path` (binary); `executable` true also does chmod +x. Returns the path.
M.write_file = write_file

-- Output of a shell command, trailing newline removed (for set-up only: pwd, mktemp).
local function capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  p:close()
  return (out:gsub("\n$", ""))
end

-- The repository root, absolute: this file is <root>/spec/support/cli.lua.
local function find_root()
  local src = debug.getinfo(1, "S").source
  local dir = src:match("^@(.*)/spec/support/[^/]*$") or src:match("^@spec/support/") and ""
  assert(dir, "cli: cannot locate the repository from " .. src)
  if dir:sub(1, 1) == "/" then return dir end
  local cwd = capture("pwd")
  dir = dir:gsub("^%.$", ""):gsub("^%./", "")
  return dir == "" and cwd or (cwd .. "/" .. dir)
end

M.ROOT = find_root()
-- The host under test: TELNYX_LUA (an absolute path; `make sanitize` sets the ASan build) or
-- build/telnyx-lua.
M.HOST = os.getenv("TELNYX_LUA") or (M.ROOT .. "/build/telnyx-lua")
M.BUILD = M.ROOT .. "/build"

-- A fresh private temp directory (mktemp -d); remove it with cli.rmdir.
function M.tmpdir()
  local dir = capture("mktemp -d " .. M.quote((os.getenv("TMPDIR") or "/tmp") .. "/telnyx-cli.XXXXXX"))
  assert(dir ~= "" and dir:sub(1, 1) == "/", "cli.tmpdir: mktemp -d failed")
  return dir
end

-- rm -rf of a directory made by cli.tmpdir (refuses anything that does not look like one).
function M.rmdir(dir)
  assert(type(dir) == "string" and dir:match("/telnyx%-cli%.[%w]+$"),
         "cli.rmdir: not a cli.tmpdir directory: " .. tostring(dir))
  os.execute("rm -rf " .. M.quote(dir))
end

local function check_name(name)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    error("cli.run: bad environment variable name " .. tostring(name), 3)
  end
end

-- The shell words that set up the environment, in a stable (sorted) order.
local function env_commands(opts)
  local env = opts.env or {}
  local names = {}
  for name in pairs(env) do
    check_name(name)
    names[#names + 1] = name
  end
  if not opts.inherit_env then
    for _, name in ipairs(M.UNSET_BY_DEFAULT) do
      if env[name] == nil then names[#names + 1] = name end
    end
  end
  table.sort(names)
  local cmds = {}
  for _, name in ipairs(names) do
    local value = env[name]
    if value == nil or value == false then
      cmds[#cmds + 1] = "unset " .. name
    elseif type(value) == "string" or type(value) == "number" then
      cmds[#cmds + 1] = "export " .. name .. "=" .. M.quote(value)
    else
      error("cli.run: env." .. name .. " must be a string, a number or false", 3)
    end
  end
  return cmds
end

-- Runs a command line already written for /bin/sh (pipelines, redirections of its own) with
-- the same capture as cli.run. `opts` takes stdin, stdin_file, env, inherit_env, cwd (no
-- timeout: bound any wait in the command line itself). Quote words with cli.quote.
function M.shell(cmdline, opts)
  opts = opts or {}
  local files = {}
  local function tmp()
    local name = os.tmpname()
    files[#files + 1] = name
    return name
  end
  local out, err = tmp(), tmp()
  local input = "/dev/null"
  if opts.stdin ~= nil then
    assert(type(opts.stdin) == "string", "cli.run: stdin must be a string")
    input = write_file(tmp(), opts.stdin)
  elseif opts.stdin_file ~= nil then
    input = opts.stdin_file
  end
  -- stderr first, so a failing redirection of stdin is reported in r.stderr too.
  local parts = { "exec 2>" .. M.quote(err) .. " >" .. M.quote(out) .. " <" .. M.quote(input) }
  if opts.cwd then parts[#parts + 1] = "cd " .. M.quote(opts.cwd) .. " || exit 125" end
  for _, c in ipairs(env_commands(opts)) do parts[#parts + 1] = c end
  parts[#parts + 1] = cmdline
  local script = table.concat(parts, "\n")
  local ok, how, code = os.execute(script)
  local r = {
    stdout = read_file(out) or "",
    stderr = read_file(err) or "",
    command = cmdline,
  }
  for _, name in ipairs(files) do os.remove(name) end
  if how == "signal" then
    r.signal = code
    r.status = 128 + code
  else
    r.status = code or (ok and 0 or 1)
  end
  return r
end

-- Runs argv (t[1..n]) with the options described at the top; returns
-- { stdout = ..., stderr = ..., status = n, signal = n|nil, timed_out = bool, command = ... }.
function M.run(t)
  assert(type(t) == "table" and t[1] ~= nil, "cli.run: expected { program, args..., options }")
  local words = {}
  for i = 1, #t do words[i] = M.quote(t[i]) end
  local limit = t.timeout
  if limit == nil then limit = M.DEFAULT_TIMEOUT end
  local cmdline = "exec " .. table.concat(words, " ")
  if limit then
    -- --foreground: stay in the caller's process group (Ctrl-C still reaches the child).
    cmdline = string.format("exec timeout --foreground -k 2 %s %s", tostring(limit),
                            table.concat(words, " "))
  end
  local r = M.shell(cmdline, t)
  r.timed_out = (limit and r.status == 124) or false
  return r
end

-- Lines of a string, without their newlines (a trailing newline adds no empty line).
function M.lines(s)
  local out = {}
  if s ~= "" and s:sub(-1) ~= "\n" then s = s .. "\n" end
  for line in s:gmatch("(.-)\n") do out[#out + 1] = line end
  return out
end

return M
