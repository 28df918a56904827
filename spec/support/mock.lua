--[[
spec/support/mock.lua: start and drive scripts/mock-server.lua from specs.

  local mock = require "spec.support.mock"
  local m = mock.start{seed = 1, latency = 0}   -- waits for the listening line (10 s at most)
  m.url, m.port, m.pid                          -- "http://127.0.0.1:PORT/v2", PORT, PID
  m:fault{path = "/v2/billing_groups", status = 429, headers = {["retry-after"] = "1"}}
  m:stop()                                      -- TERM, wait; idempotent

The server runs under opts.interpreter, else $TELNYX_MOCK_LUA, else $TELNYX_LUA (the
sanitized host of `make sanitize`), else build/telnyx-lua when it exists, else lua5.4. Control calls use luasocket's socket.http,
never the telnyx module, so the specs of the module do not depend on it.
A mock that is garbage-collected, closed (`local m <close> = mock.start{}`) or left
behind at interpreter exit is stopped too.
]]

local socket = require "socket"
local http = require "socket.http"
local ltn12 = require "ltn12"

local json do
  local ok, cjson = pcall(require, "cjson")
  if ok then
    json = {encode = cjson.encode, decode = cjson.decode, null = cjson.null}
  else
    -- dkjson is pure Lua, so it loads in any interpreter.
    local dkjson = require "dkjson"
    json = {
      encode = dkjson.encode,
      decode = function(text)
        local v, _, err = dkjson.decode(text, 1, dkjson.null)
        if err then error(err, 2) end
        return v
      end,
      null = dkjson.null,
    }
  end
end

local M = {json = json}

local START_TIMEOUT = 10
local STOP_TIMEOUT = 5
local API_KEY = "test-api-key"

---------------------------------------------------------------------------
-- Processes
---------------------------------------------------------------------------
local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function file_exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local text = f:read("a") or ""
  f:close()
  return text
end

-- The repository root: two directories above this file, else the current one.
local function repo_root()
  local source = debug.getinfo(1, "S").source
  local dir = source:match("^@(.*)/spec/support/[^/]*$")
  if dir == nil and source:match("^@spec/support/") then dir = "." end
  return dir or "."
end

-- A process is gone when /proc has no entry or shows a zombie (its parent, the
-- shell that started it, has exited, so whoever adopted it may reap it late).
local function alive(pid)
  local stat = io.open("/proc/" .. pid .. "/stat", "r")
  if stat then
    local line = stat:read("l") or ""
    stat:close()
    return line:match("^%d+ %b() (%a)") ~= "Z"
  end
  if file_exists("/proc/self/stat") then return false end
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true
end

local function signal(pid, name)
  os.execute("kill -" .. name .. " " .. pid .. " 2>/dev/null")
end

---------------------------------------------------------------------------
-- A raw HTTP/1.1 keep-alive connection, for what socket.http cannot show:
-- several requests on one connection, concurrency, truncated answers.
---------------------------------------------------------------------------
local Conn = {}
Conn.__index = Conn

function Conn:send_request(method, path, opts)
  opts = opts or {}
  local body = opts.body
  if type(body) == "table" then body = json.encode(body) end
  local lines = {method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1:" .. self.port}
  local headers = opts.headers or {}
  if opts.auth ~= false and not headers.authorization and not headers.Authorization then
    lines[#lines + 1] = "Authorization: Bearer " .. (opts.api_key or API_KEY)
  end
  for name, value in pairs(headers) do lines[#lines + 1] = name .. ": " .. value end
  if body then
    lines[#lines + 1] = "Content-Type: application/json"
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  local ok, err = self.sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""))
  if not ok then return nil, err end
  return true
end

-- Reads one response: {status=, headers= (lower-cased), body=} or nil, err, partial.
-- A body framed by neither Content-Length nor chunking is read to the end of stream.
function Conn:read_response()
  local sock = self.sock
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  local status = tonumber(line:match("^HTTP/1%.%d (%d%d%d)"))
  if not status then return nil, "bad status line: " .. line end
  local headers = {}
  while true do
    line, err = sock:receive("*l")
    if not line then return nil, err end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  local resp = {status = status, headers = headers}
  if status == 204 or status == 304 or (status >= 100 and status < 200) then
    resp.body = ""
  elseif headers["content-length"] == "0" then
    resp.body = ""              -- luasocket's receive(0) would wait for its timeout
  elseif headers["content-length"] then
    local body, berr, partial = sock:receive(tonumber(headers["content-length"]))
    if not body then return nil, berr, partial end
    resp.body = body
  elseif (headers["transfer-encoding"] or ""):lower():find("chunked", 1, true) then
    local parts = {}
    while true do
      local size_line, cerr = sock:receive("*l")
      if not size_line then return nil, cerr, table.concat(parts) end
      local size = tonumber(size_line:match("^%x+"), 16)
      if not size then return nil, "bad chunk size", table.concat(parts) end
      if size == 0 then
        repeat size_line = sock:receive("*l") until size_line == nil or size_line == ""
        break
      end
      local chunk, cherr, partial = sock:receive(size)
      if not chunk then return nil, cherr, table.concat(parts) .. (partial or "") end
      parts[#parts + 1] = chunk
      sock:receive("*l")
    end
    resp.body = table.concat(parts)
  else
    local body, berr, partial = sock:receive("*a")
    resp.body = body or partial
    if not body and berr ~= "closed" then return nil, berr, partial end
  end
  return resp
end

-- One request and its response; decodes JSON bodies into resp.json.
function Conn:request(method, path, opts)
  local ok, err = self:send_request(method, path, opts)
  if not ok then return nil, err end
  local resp, rerr, partial = self:read_response()
  if not resp then return nil, rerr, partial end
  if (resp.headers["content-type"] or ""):find("json", 1, true) and resp.body ~= "" then
    local decoded_ok, value = pcall(json.decode, resp.body)
    if decoded_ok then resp.json = value end
  end
  return resp
end

function Conn:close()
  if self.sock then
    self.sock:close()
    self.sock = nil
  end
end
Conn.__close = Conn.close
Conn.__gc = Conn.close

---------------------------------------------------------------------------
-- The mock server object
---------------------------------------------------------------------------
local Mock = {}
Mock.__index = Mock

-- Starts a mock server. opts: seed, latency (ms), port (0), verbose, interpreter,
-- timeout (s to wait for the listening line, 10), args (extra command-line words).
function M.start(opts)
  opts = opts or {}
  local root = repo_root()
  local interpreter = opts.interpreter or os.getenv("TELNYX_MOCK_LUA") or os.getenv("TELNYX_LUA")
  if not interpreter then
    local host = root .. "/build/telnyx-lua"
    interpreter = file_exists(host) and host or "lua5.4"
  end
  local words = {shell_quote(interpreter), shell_quote(root .. "/scripts/mock-server.lua"),
                 "--port", tostring(opts.port or 0)}
  if opts.seed then words[#words + 1] = "--seed " .. tostring(opts.seed) end
  if opts.latency then words[#words + 1] = "--latency " .. tostring(opts.latency) end
  if opts.verbose then words[#words + 1] = "--verbose" end
  for _, word in ipairs(opts.args or {}) do words[#words + 1] = shell_quote(word) end

  local out, err = os.tmpname(), os.tmpname()
  local launcher = assert(io.popen(table.concat(words, " ") .. " >" .. shell_quote(out)
    .. " 2>" .. shell_quote(err) .. " </dev/null & echo $!"))
  local pid = tonumber(launcher:read("l"))
  launcher:close()
  if not pid then error("mock server: could not start " .. interpreter, 2) end

  local self = setmetatable({pid = pid, out_file = out, err_file = err,
                             interpreter = interpreter}, Mock)
  local deadline = socket.gettime() + (opts.timeout or START_TIMEOUT)
  while true do
    local port = read_file(out):match("^telnyx mock listening on http://127%.0%.0%.1:(%d+)/v2\n")
    if port then
      self.port = tonumber(port)
      self.url = "http://127.0.0.1:" .. port .. "/v2"
      self.control_url = "http://127.0.0.1:" .. port .. "/__mock/"
      return self
    end
    if not alive(pid) then
      local why = read_file(err)
      self:stop()
      error("mock server (" .. interpreter .. ") exited before listening: " .. why, 2)
    end
    if socket.gettime() > deadline then
      local why = read_file(err)
      self:stop()
      error(string.format("mock server (%s) printed no listening line within %g s%s", interpreter,
        opts.timeout or START_TIMEOUT, why ~= "" and (": " .. why) or ""), 2)
    end
    socket.sleep(0.01)
  end
end

-- TERM, wait up to 5 s, then KILL. Safe to call any number of times.
function Mock:stop()
  if self.stopped then return true end
  self.stopped = true
  if self.pid and alive(self.pid) then
    signal(self.pid, "TERM")
    local deadline = socket.gettime() + STOP_TIMEOUT
    while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.01) end
    if alive(self.pid) then signal(self.pid, "KILL") end
  end
  os.remove(self.out_file)
  os.remove(self.err_file)
  return true
end
Mock.__close = Mock.stop
Mock.__gc = Mock.stop

-- What the server wrote on stderr so far (for failure messages).
function Mock:stderr() return read_file(self.err_file) end

-- One HTTP request through socket.http: status, body text, headers (lower-cased).
local function http_request(url, method, body, headers)
  local chunks = {}
  headers = headers or {}
  if body then headers["content-length"] = tostring(#body) end
  local ok, status, response_headers = http.request{
    url = url, method = method, headers = headers, sink = ltn12.sink.table(chunks),
    source = body and ltn12.source.string(body) or nil,
  }
  if not ok then return nil, status end
  return status, table.concat(chunks), response_headers
end

-- A control call (/__mock/NAME): the decoded answer; raises on failure.
function Mock:control(method, name, body)
  local text = body ~= nil and json.encode(body) or nil
  local status, answer = http_request(self.control_url .. name, method, text,
    text and {["content-type"] = "application/json"} or nil)
  if not status then error("mock control " .. method .. " " .. name .. ": " .. tostring(answer), 2) end
  if status >= 300 then
    error(string.format("mock control %s %s: %d %s", method, name, status, answer), 2)
  end
  return answer ~= "" and json.decode(answer) or nil
end

function Mock:fault(rule) return self:control("POST", "faults", rule or {}) end
function Mock:faults() return self:control("GET", "faults") end
function Mock:clear_faults() return self:control("DELETE", "faults") end
function Mock:requests(since)
  return self:control("GET", since and ("requests?since=" .. since) or "requests")
end
function Mock:clear_requests() return self:control("DELETE", "requests") end
function Mock:stats() return self:control("GET", "stats") end
function Mock:clear_stats() return self:control("DELETE", "stats") end
function Mock:reset(seed) return self:control("POST", "reset", seed and {seed = seed} or nil) end
function Mock:latency(ms) return self:control("POST", "latency", {ms = ms}) end
function Mock:seed(resource, count)
  return self:control("POST", "seed", {resource = resource, count = count or 1})
end

-- An API call through socket.http (one connection each), authenticated unless
-- opts.auth == false. path is relative to /v2 ("/billing_groups?page[size]=5").
-- Returns status, decoded JSON body (or nil), raw body, headers.
function Mock:request(method, path, opts)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  if opts.auth ~= false and not headers.authorization then
    headers.authorization = "Bearer " .. (opts.api_key or API_KEY)
  end
  local body = opts.body
  if type(body) == "table" then
    body = json.encode(body)
    headers["content-type"] = headers["content-type"] or "application/json"
  end
  local status, text, response_headers = http_request(self.url .. path, method, body, headers)
  if not status then error("mock request " .. method .. " " .. path .. ": " .. tostring(text), 2) end
  local decoded
  if text ~= "" and (response_headers["content-type"] or ""):find("json", 1, true) then
    local ok, value = pcall(json.decode, text)
    if ok then decoded = value end
  end
  return status, decoded, text, response_headers
end

-- A raw keep-alive connection to the server (see Conn above); timeout in s (5).
function Mock:connect(timeout)
  local sock = assert(socket.tcp())
  sock:settimeout(timeout or 5)
  local ok, err = sock:connect("127.0.0.1", self.port)
  if not ok then
    sock:close()
    error("mock connect: " .. tostring(err), 2)
  end
  sock:setoption("tcp-nodelay", true)
  return setmetatable({sock = sock, port = self.port}, Conn)
end

return M
