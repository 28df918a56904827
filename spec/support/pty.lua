-- Drives an interactive program through a pseudo-terminal with tmux, for the REPL specs.
--
--   local pty = require "spec.support.pty"
--   local t = pty.start{ "build/telnyx-lua", env = { HOME = dir, NO_COLOR = false } }
--   t:send("client.bil")          -- literal text
--   t:keys("Tab")                 -- tmux key names: Tab, Enter, C-c, C-d, ...
--   local mark = t:mark()
--   t:line("=1+1")                -- text, then Enter
--   t:wait_for("2", { since = mark })   -- polls the screen; raises with the screen on timeout
--   t:wait_exit()                 -- the program's exit status (nil on timeout)
--   t:stop()                      -- kills the tmux server; idempotent
--
-- Each terminal has its own tmux server (`tmux -L <unique socket> -f /dev/null`), so specs never
-- touch the user's tmux. The program runs under `sh`, which records its exit status in a file;
-- the shell traps SIGINT (a trap, not an ignore, so the program still gets the default), so
-- Ctrl-C reaches only what the spec is testing.
local cli = require "spec.support.cli"
local socket = require "socket"

local M = {}

M.DEFAULT_TIMEOUT = 10
local POLL = 0.02

local Term = {}
Term.__index = Term

local function run(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true
end

local function capture(cmd)
  local p = assert(io.popen(cmd .. " 2>/dev/null", "r"))
  local out = p:read("a")
  p:close()
  return out
end

function Term:tmux(args)
  return "tmux -L " .. cli.quote(self.socket) .. " " .. args
end

-- The shell line the pane runs: environment, the program, then its status into a file.
local function pane_command(argv, env, cwd, status_file)
  local unset, set = {}, {}
  local names = {}
  for name in pairs(env or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local value = env[name]
    if value == false then
      unset[#unset + 1] = "-u " .. cli.quote(name)
    else
      set[#set + 1] = cli.quote(name .. "=" .. tostring(value))
    end
  end
  for _, name in ipairs(cli.UNSET_BY_DEFAULT) do
    if env == nil or env[name] == nil then unset[#unset + 1] = "-u " .. name end
  end
  -- env takes its -u options before any NAME=value
  local words = { "env" }
  table.move(unset, 1, #unset, #words + 1, words)
  table.move(set, 1, #set, #words + 1, words)
  for i = 1, #argv do words[#words + 1] = cli.quote(argv[i]) end
  return "trap : INT; cd " .. cli.quote(cwd) .. " && " .. table.concat(words, " ") ..
    "; echo $? > " .. cli.quote(status_file)
end

-- start{ program, args..., env = {NAME = value | false}, cwd =, width = 120, height = 40 }
function M.start(t)
  assert(type(t) == "table" and t[1], "pty.start: expected { program, args..., options }")
  local dir = cli.tmpdir()
  local self = setmetatable({
    dir = dir,
    socket = "telnyx-spec-" .. dir:match("([%w]+)$"),
    status_file = dir .. "/status",
    timeout = t.timeout or M.DEFAULT_TIMEOUT,
  }, Term)
  local argv = {}
  for i = 1, #t do argv[i] = t[i] end
  local cmd = pane_command(argv, t.env, t.cwd or cli.ROOT, self.status_file)
  local ok = run(self:tmux(string.format(
    "-f /dev/null new-session -d -s main -x %d -y %d %s \\; set-option -g status off",
    t.width or 120, t.height or 40, cli.quote(cmd))))
  if not ok then
    self:stop()
    error("pty.start: tmux could not start " .. tostring(argv[1]), 2)
  end
  -- kill-server leaves the socket file behind; stop removes it
  self.socket_path = capture(self:tmux("display-message -p -t main '#{socket_path}'")):match("^(/%S+)")
  return self
end

-- Everything the terminal shows, scrollback included, wrapped lines joined; with escapes=true,
-- colours and attributes as SGR sequences (tmux's rendering of them).
function Term:screen(opts)
  local flags = "-p -J -S -" .. ((opts and opts.escapes) and " -e" or "")
  return capture(self:tmux("capture-pane " .. flags .. " -t main"))
end

-- Where new output starts: text after this offset in screen(opts) came later (pass the same
-- opts, e.g. {escapes = true}, as to the wait_for that uses it).
function Term:mark(opts)
  return #(self:screen(opts):gsub("%s+$", ""))
end

function Term:send(text)
  assert(run(self:tmux("send-keys -t main -l -- " .. cli.quote(text))), "pty: send-keys failed")
end

function Term:keys(...)
  local names = {}
  for i, k in ipairs({ ... }) do names[i] = cli.quote(k) end
  assert(run(self:tmux("send-keys -t main " .. table.concat(names, " "))), "pty: send-keys failed")
end

function Term:line(text)
  self:send(text)
  self:keys("Enter")
end

-- Polls until `needle` (plain text, or a Lua pattern with opts.pattern) shows after
-- opts.since; returns the screen. Raises with the screen when opts.timeout (10 s) passes.
function Term:wait_for(needle, opts)
  opts = opts or {}
  local deadline = socket.gettime() + (opts.timeout or self.timeout)
  local screen
  repeat
    screen = self:screen(opts)
    local tail = screen:sub((opts.since or 0) + 1)
    if tail:find(needle, 1, not opts.pattern) then return screen end
    socket.sleep(POLL)
  until socket.gettime() > deadline
  error(string.format("pty: %q did not show within %g s; the screen:\n%s", needle,
                      opts.timeout or self.timeout, screen), 2)
end

-- The exit status once the program ended, else nil.
function Term:status()
  local text = cli.read_file(self.status_file)
  return text and tonumber(text:match("%d+")) or nil
end

-- Waits for the program to end; its exit status, or nil after `timeout` seconds.
function Term:wait_exit(timeout)
  local deadline = socket.gettime() + (timeout or self.timeout)
  repeat
    local status = self:status()
    if status then return status end
    socket.sleep(POLL)
  until socket.gettime() > deadline
  return nil
end

function Term:stop()
  if self.stopped then return end
  self.stopped = true
  run(self:tmux("kill-server"))
  if self.socket_path then os.remove(self.socket_path) end
  cli.rmdir(self.dir)
end
Term.__close = Term.stop
Term.__gc = Term.stop

return M
