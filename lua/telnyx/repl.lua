-- The REPL session that src/repl.c sets up: its globals (telnyx, help, client), how results and
-- errors are shown, completion and the banner. The parts live in their own modules, each loaded
-- when first used: telnyx.printer (results), telnyx.help (help()), telnyx.complete (Tab).
-- format, quote, wrap, help_text, help and complete stay reachable here for scripts.

local telnyx = require "telnyx"
local util = require "telnyx.util"

local M = {}

local function printer() return require "telnyx.printer" end

function M.format(v, opts) return printer().format(v, opts) end
function M.quote(s) return printer().quote(s) end
function M.wrap(text, width, first, rest) return printer().wrap(text, width, first, rest) end
function M.help_text(x, opts) return require("telnyx.help").help_text(x, opts) end
function M.help(...) return require("telnyx.help").help(...) end
function M.complete(text, env, before) return require("telnyx.complete").complete(text, env, before) end

-- session{color =, interactive =, width = function} -> {show, complete, banner}; also sets the
-- REPL's globals: telnyx, help, and client when TELNYX_API_KEY is set (unless already there).
function M.session(opts)
  opts = opts or {}
  local width = opts.width or util.terminal_width
  local env = _G
  local s = {}
  if env.telnyx == nil then env.telnyx = telnyx end
  if env.help == nil then
    env.help = function(...)
      -- help() with no argument is the module overview; help(nil) says there is nothing.
      local x = select("#", ...) == 0 and telnyx or (...)
      io.stdout:write(M.help_text(x, { width = width() }))
      io.stdout:flush()
    end
  end
  local key = os.getenv("TELNYX_API_KEY")
  local client_error
  if env.client == nil and key ~= nil and key ~= "" then
    local ok, c = pcall(telnyx.new)
    if ok then env.client = c else client_error = tostring(c) end
  end

  -- Results of a line, each on its own line.
  function s.show(...)
    local n = select("#", ...)
    -- list() returns pager, nil, nil, pager (the last closes it after a `for` break): one pager.
    local first, _, _, closer = ...
    if n == 4 and closer ~= nil and rawequal(first, closer) and select(2, ...) == nil
        and select(3, ...) == nil then
      n = 1
    end
    local fopts = { color = opts.color, width = width(), pages = true }
    local parts = {}
    for i = 1, n do parts[i] = printer().format((select(i, ...)), fopts) end
    io.stdout:write(table.concat(parts, "\n"), "\n")
    io.stdout:flush()
  end

  function s.complete(text, before) return M.complete(text, env, before) end

  -- One error line, red on a colour terminal.
  function s.error_line(msg)
    msg = tostring(msg)
    if opts.color then return "\27[31m" .. msg .. "\27[0m" end
    return msg
  end

  function s.banner()
    local lines = {}
    local c = rawget(env, "client")
    local d = c ~= nil and util.describe(c) or nil
    if d and d.kind == "client" then
      lines[#lines + 1] = "client = telnyx.new() talks to " .. tostring(d.base_url)
      lines[#lines + 1] = "help(client) lists what it can do; help() shows the telnyx module; "
        .. "Tab completes."
    elseif client_error then
      lines[#lines + 1] = "could not create client: " .. client_error
    else
      lines[#lines + 1] = "TELNYX_API_KEY is not set, so there is no `client` yet."
      lines[#lines + 1] = "Export it in the shell and restart, or make one here:"
      lines[#lines + 1] = "  client = telnyx.new{api_key = \"KEY...\"}"
      lines[#lines + 1] = "help() shows the telnyx module; Tab completes."
    end
    local w = width()
    for i, line in ipairs(lines) do lines[i] = printer().wrap(line, w, "", "  ") end
    return table.concat(lines, "\n") .. "\n"
  end

  return s
end

return M
