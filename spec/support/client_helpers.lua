-- Helpers shared by the client-core specs (client, errors, logging): clients pointed at a
-- mock, failures caught as values, the mock's request log read as timings and connections,
-- and child processes that run a snippet against the mock.
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local socket = require "socket"

local M = {}

-- A key distinctive enough that finding it anywhere in output is a real leak, not a chance match.
M.API_KEY = "KEY0199SPECsecret7Qx"

-- Fault headers that make the client retry at once: retry counts are what those specs test,
-- and the default backoff (0.5 s, 1 s) would only slow them down.
M.RETRY_NOW = { ["retry-after-ms"] = "1" }

-- A client of the mock; `opts` adds to or overrides api_key and base_url.
function M.client(m, opts)
  local o = { api_key = M.API_KEY, base_url = m.url }
  for k, v in pairs(opts or {}) do o[k] = v end
  return telnyx.new(o)
end

-- Calls f(...) expecting it to raise; returns what it raised.
function M.failure(f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error, but the call succeeded", 2) end
  return err
end

-- The mock's log of API requests whose path starts with `prefix` (all when nil).
function M.requests(m, prefix)
  local out = {}
  for _, r in ipairs(m:requests()) do
    if prefix == nil or r.path:sub(1, #prefix) == prefix then out[#out + 1] = r end
  end
  return out
end

-- Milliseconds between the end of each logged request and the start of the next one: the
-- client's wait before a retry, as the mock saw it.
function M.gaps(reqs)
  local out = {}
  for i = 2, #reqs do
    local prev_end = reqs[i - 1].t_end_ms
    if type(prev_end) ~= "number" then prev_end = reqs[i - 1].t_start_ms end
    out[#out + 1] = reqs[i].t_start_ms - prev_end
  end
  return out
end

-- The set of connection ids the requests came on, and how many there were.
function M.connections(reqs)
  local seen, n = {}, 0
  for _, r in ipairs(reqs) do
    if not seen[r.conn] then
      seen[r.conn] = true
      n = n + 1
    end
  end
  return seen, n
end

-- libcurl silently re-sends a request once when a *reused* connection dies before any answer,
-- which would show up in the mock's log as an extra request of the same attempt. This makes
-- the process drop its idle connection to the mock (an answer with "Connection: close"), so
-- the next attempt starts on a fresh connection and each attempt is exactly one request.
function M.drop_idle_connection(m, client)
  m:fault { path = "/v2/__drop_connection", status = 200, body = {},
            headers = { Connection = "close" } }
  client:request("GET", "/__drop_connection", { max_retries = 0 })
end

-- A loopback port with nothing listening on it: bound, then closed again.
function M.closed_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

-- An HTTP date `seconds` from now, as a Retry-After header carries it.
function M.http_date(seconds)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + seconds)
end

-- Decodes base64url (JWT parts) without padding.
function M.base64url_decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local bits, nbits, out = 0, 0, {}
  for ch in s:gmatch(".") do
    local v = alphabet:find(ch, 1, true)
    if not v then error("not base64url: " .. ch) end
    bits = (bits << 6) | (v - 1)
    nbits = nbits + 6
    if nbits >= 8 then
      nbits = nbits - 8
      out[#out + 1] = string.char((bits >> nbits) & 0xFF)
    end
  end
  return table.concat(out)
end

-- Runs `code` in a child build/telnyx-lua with TELNYX_BASE_URL and TELNYX_API_KEY pointing at
-- the mock; `env` adds or unsets (false) variables. Returns cli.run's result.
function M.child(m, code, env)
  local e = { TELNYX_BASE_URL = m.url, TELNYX_API_KEY = M.API_KEY, TELNYX_CUSTOM_HEADERS = false }
  for k, v in pairs(env or {}) do e[k] = v end
  return cli.run { cli.HOST, "-e", code, env = e, timeout = 30 }
end

-- Lines of s (without newlines) that contain `needle` as plain text.
function M.lines_with(s, needle)
  local out = {}
  for _, line in ipairs(cli.lines(s)) do
    if line:find(needle, 1, true) then out[#out + 1] = line end
  end
  return out
end

return M
