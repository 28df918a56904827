-- Runs a script of scripts/ as a user would (a child process of the host, pointed at a mock
-- through TELNYX_BASE_URL), and checks the API key never shows up in what it printed.
local cli = require "spec.support.cli"

local M = {}

-- run{script=, key=, url=, args={...}, env={...} (merged last; false unsets), stdin=}
function M.run(opts)
  local t = { cli.HOST, opts.script, stdin = opts.stdin,
              env = { TELNYX_API_KEY = opts.key, TELNYX_BASE_URL = opts.url } }
  for _, a in ipairs(opts.args or {}) do t[#t + 1] = a end
  for k, v in pairs(opts.env or {}) do t.env[k] = v end
  local r = cli.run(t)
  assert(not r.stdout:find(opts.key, 1, true), "the API key leaked on stdout")
  assert(not r.stderr:find(opts.key, 1, true), "the API key leaked on stderr")
  return r
end

return M
