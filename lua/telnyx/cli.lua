-- Shared parts of the automation scripts under scripts/ (rotate-ip-allowlist, export,
-- provision-webrtc-user): command lines with argparse where bad usage exits 2, the client
-- from the environment, ordered JSON output, one-line error texts, and a runner that turns
-- failures and Ctrl-C into exit statuses.
--
--   local cli = require "telnyx.cli"
--   cli.main("export.lua", function(argv) ... return cli.EXIT_OK end)

local telnyx = require "telnyx"

local M = {}

M.EXIT_OK = 0
M.EXIT_FAILED = 1 -- some request failed, or the run was interrupted
M.EXIT_USAGE = 2  -- bad command line, bad input file, missing configuration

local program = "telnyx-lua" -- set by cli.main, used to prefix messages

-- Raised by cli.usage_error and caught by cli.main: the message, then exit 2.
local UsageError = {}
UsageError.__index = UsageError
UsageError.__tostring = function(e) return e.message end

-- Raises a usage error: cli.main prints "<program>: <message>" and exits 2.
function M.usage_error(fmt, ...)
  error(setmetatable({ message = select("#", ...) > 0 and fmt:format(...) or fmt }, UsageError), 0)
end

function M.is_usage_error(v) return getmetatable(v) == UsageError end

local function hex_bytes(s) return (s:gsub(".", function(c) return ("\\x%02x"):format(c:byte()) end)) end

-- Control characters as \xNN, so that text from a file or a server (a stray escape
-- sequence, a carriage return) cannot rewrite the terminal or split the line: C0, DEL, C1
-- (U+0080..U+009F, which some terminals read as CSI, OSC...), and, in text that is not valid
-- UTF-8, every byte above 0x7F (a lone 0x9B is CSI to a Latin-1 terminal). The same rule as
-- the module's log (src/log.c).
function M.printable(text)
  text = text:gsub("[%c\127]", hex_bytes)
  if utf8.len(text) == nil then return (text:gsub("[\128-\255]", hex_bytes)) end
  return (text:gsub("\194[\128-\159]", hex_bytes))
end

-- Whether stdout is a terminal (asked of the shell: Lua has no isatty).
function M.stdout_is_terminal()
  return os.execute("test -t 1") == true
end

-- Writes a line on stderr, prefixed with the program name.
function M.warn(fmt, ...)
  local text = select("#", ...) > 0 and fmt:format(...) or fmt
  io.stderr:write(program, ": ", M.printable(text), "\n")
end

-- Ctrl-C shows up as telnyx.map's InterruptedError, or as the "interrupted!" error that the
-- host's hook or a client call raises (with a position prefix when Lua code raised it).
function M.is_interrupt(err)
  if telnyx.is_error(err, "InterruptedError") then return true end
  return type(err) == "string" and err:match("interrupted!$") ~= nil
end

-- One line describing an error: telnyx errors print type, status, method, path and message
-- (never credentials); anything else its tostring, first line only.
function M.error_text(err)
  if M.is_interrupt(err) then return "interrupted" end
  local text = tostring(err)
  return (text:match("^[^\n]*"))
end

-- An argparse parser whose errors print the usage and exit 2 (argparse itself exits 1).
-- --help still prints the help and exits 0.
function M.parser(name, description, epilog)
  local argparse = require "argparse" -- loaded here so that requiring telnyx.cli never needs it
  local parser = argparse(name, description, epilog)
  parser.error = function(self, msg)
    io.stderr:write(self:get_usage(), "\n\n", name, ": ", msg, "\n")
    os.exit(M.EXIT_USAGE)
  end
  return parser
end

-- Parses a --concurrency value: an integer from 1 to 256 (telnyx.map's range), else a usage
-- error. Suitable for argparse's :convert.
function M.concurrency(text)
  local n = tonumber(text)
  if math.type(n) ~= "integer" or n < 1 or n > 256 then
    return nil, "--concurrency must be an integer from 1 to 256, got '" .. tostring(text) .. "'"
  end
  return n
end

-- The resource object named by a dotted name: "addresses.actions" -> client.addresses.actions.
function M.resource(client, name)
  local r = client
  for part in name:gmatch("[^.]+") do r = r[part] end
  return r
end

-- The client, from TELNYX_API_KEY and TELNYX_BASE_URL. A missing key or a bad base URL is a
-- usage error (exit 2) found before any request, not an AuthenticationError halfway through.
function M.client(opts)
  local key = os.getenv("TELNYX_API_KEY")
  if key == nil or key == "" then
    M.usage_error("TELNYX_API_KEY is not set; export your Telnyx API key first")
  end
  local ok, client = pcall(telnyx.new, opts)
  if not ok then M.usage_error("%s", M.error_text(client)) end
  return client
end

-- The client of a tour (scripts/demo*.lua): as M.client, for a local mock only (a plain
-- http://127.x.y.z base URL), so that a tour never changes a real account by accident.
function M.local_client()
  local base = os.getenv("TELNYX_BASE_URL")
  if base == nil or not base:match("^http://127%.") then
    M.usage_error("set TELNYX_BASE_URL to a local mock (make demo does this)")
  end
  return M.client()
end

local encode = telnyx.json.encode

-- An object whose keys keep the given order in cli.json: fields is an array of {key, value}.
local Ordered = {}

function M.ordered(fields) return setmetatable({ fields = fields }, Ordered) end

-- JSON text of v, like telnyx.json.encode, except that objects made by cli.ordered keep
-- their key order (also inside arrays), so output reads the same on every run.
function M.json(v)
  if getmetatable(v) == Ordered then
    local parts = {}
    for i, field in ipairs(v.fields) do parts[i] = encode(field[1]) .. ":" .. M.json(field[2]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  if type(v) == "table" and #v > 0 then
    local parts, keys = {}, 0
    for _ in pairs(v) do keys = keys + 1 end
    if keys == #v then -- a sequence: its items may hold ordered objects
      for i, item in ipairs(v) do parts[i] = M.json(item) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
  end
  return encode(v)
end

-- A JSON array (encodes as [] when empty) holding the values of t (copied).
function M.array(t)
  local a = telnyx.json.array()
  for i, v in ipairs(t or {}) do a[i] = v end
  return a
end

-- Keys whose values are secrets: the module's logging rule (src/log.c), the one definition.
local is_secret_key = telnyx._is_secret_key

-- Replaces, in place and at any depth, the non-null values of secret keys by "[redacted]",
-- so that what a script prints never carries a credential. Returns v.
function M.redact(v)
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do
    if is_secret_key(k) and x ~= telnyx.null then
      v[k] = "[redacted]"
    elseif type(x) == "table" then
      M.redact(x)
    end
  end
  return v
end

-- Writes to stdout; a write error (a closed pipe, a full disk) is raised.
function M.out(...)
  local ok, err = io.stdout:write(...)
  if not ok then error("cannot write the output: " .. tostring(err), 0) end
end

-- Reports an error that escaped the script and returns the exit status for it.
local function report(err)
  if M.is_usage_error(err) then
    M.warn("%s", err.message)
    M.warn("run with --help for the usage")
    return M.EXIT_USAGE
  end
  if M.is_interrupt(err) then
    M.warn("interrupted")
    return M.EXIT_FAILED
  end
  M.warn("%s", M.error_text(err))
  local level = os.getenv("TELNYX_LOG")
  if level == "debug" and type(err) == "table" and err.traceback then
    io.stderr:write(err.traceback, "\n")
  end
  return M.EXIT_FAILED
end

-- Keeps the traceback of a Lua error (a bug, not an API failure) for TELNYX_LOG=debug.
local function handler(err)
  if type(err) == "string" and not M.is_interrupt(err) then
    return setmetatable({ traceback = debug.traceback(err, 2) }, {
      __tostring = function() return err end,
    })
  end
  return err
end

-- Runs main(argv) (argv defaults to the script's `arg`) and exits with its status (an
-- integer; nil means 0). Errors that escape are reported on stderr: usage errors exit 2,
-- everything else 1 (with a traceback for Lua errors when TELNYX_LOG=debug).
--
-- The body runs in a coroutine of its own: on Ctrl-C the interpreter (lua.c, or the host)
-- sets a hook on the main thread that raises "interrupted!" at its next instruction, which
-- would pre-empt a script's own handling of telnyx.map's InterruptedError (what was done,
-- what was not). A coroutine does not inherit a hook set after it was created, so the script
-- can report and exit from inside it before the main thread runs again. For the same reason
-- that hook never stops Lua code running in the coroutine (a loop, a big file being parsed):
-- telnyx._watch_interrupts gives the coroutine a hook of its own that raises "interrupted!"
-- at the first Ctrl-C, and makes SIGINT raise the module's interrupt flag in stock lua5.4 too
-- (src/sigint.c).
function M.main(name, main, argv)
  program = name
  argv = argv or arg
  local co = coroutine.create(function()
    local ok, status = xpcall(main, handler, argv)
    if not ok then status = report(status) end
    io.stdout:flush()
    os.exit(math.type(status) == "integer" and status or M.EXIT_OK)
  end)
  telnyx._watch_interrupts(co)
  local ok, err = coroutine.resume(co)
  -- Only reached when the body yielded, which no script does, or failed outside xpcall.
  if not ok then io.stderr:write(name, ": ", tostring(err), "\n") end
  os.exit(M.EXIT_FAILED)
end

return M
