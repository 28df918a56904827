--[[
spec/support/tls.lua: real TLS, HTTP/2 and proxy servers on loopback, for the specs of the
production path (https://, HTTP/2, private CAs, proxies).

  local tls = require "spec.support.tls"
  local pki = tls.pki()                 -- certificates made now with openssl, in a temp dir
  pki.ca                                -- PEM of the test CA (what ca_bundle names)
  pki.other_ca                          -- PEM of a CA that signed only the "unknown_ca" front's
  pki.ca_dir                            -- a hashed directory holding the test CA (SSL_CERT_DIR)
  local front = tls.front{backend = m.port, pki = pki, cert = "good"}
      -- nghttpx: TLS + HTTP/2 (ALPN h2, http/1.1) on a free port, forwarding to the mock
      -- cert: "good" (localhost, 127.0.0.1), "expired", "wrong_host", "unknown_ca"
  front.url, front.port                 -- "https://127.0.0.1:PORT/v2", PORT
  front:log()                           -- access log: {{port=, alpn=, status=, method=, path=}}
  front:connections()                   -- how many client connections the log shows
  local proxy = tls.proxy{auth = "user:password"}   -- tinyproxy (CONNECT), auth optional
  local raw = tls.raw_server(bytes)     -- answers `bytes` to whatever it is sent, then closes
  proxy.url, proxy.port, proxy:log()    -- "http://127.0.0.1:PORT", PORT, its log text
  x:stop(); pki:cleanup()               -- idempotent; also on __close and __gc

Ports are picked free (bound, released, then given to the server); a server that fails to
listen on its port (taken in between) is started again on another.
]]
local socket = require "socket"
local cli = require "spec.support.cli"

local M = {}

local START_TIMEOUT = 10

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function listening(port)
  local c = socket.tcp()
  c:settimeout(0.2)
  local ok = c:connect("127.0.0.1", port)
  c:close()
  return ok ~= nil
end

-- Gone when /proc has no entry or shows a zombie (the launching shell has exited, so the
-- process waits for whoever adopted it).
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local line = f:read("l") or ""
  f:close()
  return line:match("^%d+ %b() (%a)") ~= "Z"
end

local function sh(cmd)
  local r = cli.shell(cmd)
  if r.status ~= 0 then error("tls: " .. cmd .. " failed: " .. r.stderr, 3) end
  return r.stdout
end

---------------------------------------------------------------------------
-- Certificates
---------------------------------------------------------------------------
local Pki = {}
Pki.__index = Pki

local EC = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

-- A CA: key and self-signed certificate, valid for two days.
local function make_ca(dir, name, cn)
  sh(("openssl req -x509 %s -keyout %s/%s.key -out %s/%s.pem -days 2 -subj %s"):format(
    EC, dir, name, dir, name, cli.quote("/CN=" .. cn)))
end

-- A server certificate signed by ca_name, for the names of `san`.
local function make_leaf(dir, name, ca_name, san, dates)
  cli.write_file(dir .. "/" .. name .. ".ext",
    "[ext]\nsubjectAltName = " .. san .. "\nbasicConstraints = CA:FALSE\n")
  sh(("openssl req %s -keyout %s/%s.key -out %s/%s.csr -subj /CN=test-server"):format(
    EC, dir, name, dir, name))
  if dates then
    -- `openssl ca` is what takes explicit dates (x509 -req only counts days from now).
    cli.write_file(dir .. "/ca.cnf", table.concat({
      "[ca]", "default_ca = test", "[test]", "database = " .. dir .. "/index.txt",
      "new_certs_dir = " .. dir, "serial = " .. dir .. "/serial", "default_md = sha256",
      "policy = any", "unique_subject = no", "[any]", "commonName = supplied", "" }, "\n"))
    cli.write_file(dir .. "/index.txt", "")
    cli.write_file(dir .. "/serial", "01\n")
    sh(("openssl ca -batch -notext -config %s/ca.cnf -cert %s/%s.pem -keyfile %s/%s.key -in %s/%s.csr "
        .. "-out %s/%s.pem -startdate %s -enddate %s -extfile %s/%s.ext -extensions ext"):format(
      dir, dir, ca_name, dir, ca_name, dir, name, dir, name, dates[1], dates[2], dir, name))
  else
    sh(("openssl x509 -req -in %s/%s.csr -CA %s/%s.pem -CAkey %s/%s.key -CAcreateserial -out %s/%s.pem "
        .. "-days 2 -extfile %s/%s.ext -extensions ext"):format(
      dir, name, dir, ca_name, dir, ca_name, dir, name, dir, name))
  end
end

function M.pki()
  local dir = cli.tmpdir()
  local self = setmetatable({ dir = dir }, Pki)
  local ok, err = pcall(function()
    make_ca(dir, "ca", "telnyx-lua test CA")
    make_ca(dir, "other_ca", "telnyx-lua unknown CA")
    make_leaf(dir, "good", "ca", "DNS:localhost,IP:127.0.0.1")
    make_leaf(dir, "wrong_host", "ca", "DNS:wrong.example")
    make_leaf(dir, "unknown_ca", "other_ca", "DNS:localhost,IP:127.0.0.1")
    make_leaf(dir, "expired", "ca", "DNS:localhost,IP:127.0.0.1", { "20200101000000Z", "20200102000000Z" })
  end)
  if not ok then
    self:cleanup()
    error(err, 2)
  end
  self.ca, self.other_ca, self.ca_dir = dir .. "/ca.pem", dir .. "/other_ca.pem", dir .. "/ca.d"
  sh(("mkdir %s && cp %s %s/ && openssl rehash %s"):format(self.ca_dir, self.ca, self.ca_dir, self.ca_dir))
  return self
end

function Pki:cert(name) return self.dir .. "/" .. name .. ".pem", self.dir .. "/" .. name .. ".key" end

function Pki:cleanup()
  if self.dir then cli.rmdir(self.dir) end
  self.dir = nil
end
Pki.__close = Pki.cleanup
Pki.__gc = Pki.cleanup

---------------------------------------------------------------------------
-- Servers: a process started in the background, stopped by TERM (then KILL)
---------------------------------------------------------------------------
local Server = {}
Server.__index = Server

-- Runs `argv` (a table of words) on a free port: make(port, dir) returns the argv. Waits
-- until the port accepts connections; tries another port when the server exits first.
local function start(what, make)
  local dir = cli.tmpdir()
  local last = ""
  for _ = 1, 3 do
    local port = free_port()
    local words = {}
    for i, w in ipairs(make(port, dir)) do words[i] = cli.quote(w) end
    local launcher = assert(io.popen(table.concat(words, " ") .. " >" .. cli.quote(dir .. "/out")
      .. " 2>&1 </dev/null & echo $!"))
    local pid = tonumber(launcher:read("l"))
    launcher:close()
    local self = setmetatable({ pid = pid, port = port, dir = dir, what = what }, Server)
    local deadline = socket.gettime() + START_TIMEOUT
    while alive(pid) and not listening(port) and socket.gettime() < deadline do socket.sleep(0.01) end
    if alive(pid) and listening(port) then return self end
    last = cli.read_file(dir .. "/out") or ""
    self:stop(true)
  end
  cli.rmdir(dir)
  error(what .. " did not start: " .. last, 3)
end

function Server:stop(keep_dir)
  if self.pid then
    os.execute("kill -TERM " .. self.pid .. " 2>/dev/null")
    local deadline = socket.gettime() + 5
    while alive(self.pid) and socket.gettime() < deadline do socket.sleep(0.01) end
    if alive(self.pid) then os.execute("kill -KILL " .. self.pid .. " 2>/dev/null") end
    self.pid = nil
  end
  if not keep_dir and self.dir then
    cli.rmdir(self.dir)
    self.dir = nil
  end
  return true
end
Server.__close = function(self) self:stop() end
Server.__gc = Server.__close

function Server:file(name) return self.dir and cli.read_file(self.dir .. "/" .. name) or "" end

---------------------------------------------------------------------------
-- The TLS + HTTP/2 front: nghttpx
---------------------------------------------------------------------------
local Front = setmetatable({}, { __index = Server })
Front.__index = Front
Front.__close, Front.__gc = Server.__close, Server.__gc

function M.front(opts)
  local cert, key = opts.pki:cert(opts.cert or "good")
  local self = start("nghttpx", function(port, dir)
    return { "nghttpx", "--conf=/dev/null", "--frontend=127.0.0.1," .. port,
             "--backend=127.0.0.1," .. opts.backend, "--workers=1", "--no-ocsp",
             "--accesslog-file=" .. dir .. "/access.log",
             "--accesslog-format=$remote_port $alpn $status $method $path",
             "--errorlog-file=" .. dir .. "/error.log", key, cert }
  end)
  setmetatable(self, Front)
  self.url = "https://127.0.0.1:" .. self.port .. "/v2"
  return self
end

-- The access log as records (nghttpx writes a line as each request ends).
function Front:log()
  local out = {}
  for _, line in ipairs(cli.lines(self:file("access.log"))) do
    local port, alpn, status, method, path = line:match("^(%d+) (%S+) (%d+) (%S+) (%S+)")
    if port then
      out[#out + 1] = { port = tonumber(port), alpn = alpn, status = tonumber(status), method = method,
                        path = path }
    end
  end
  return out
end

-- Distinct client connections in the access log (one client port each), and the records.
function Front:connections()
  local seen, n = {}, 0
  local log = self:log()
  for _, r in ipairs(log) do
    if not seen[r.port] then
      seen[r.port] = true
      n = n + 1
    end
  end
  return n, log
end

function Front:clear_log()
  if self.dir then cli.write_file(self.dir .. "/access.log", "") end
end

---------------------------------------------------------------------------
-- The forward proxy: tinyproxy (CONNECT), with or without basic auth
---------------------------------------------------------------------------
function M.proxy(opts)
  opts = opts or {}
  local self = start("tinyproxy", function(port, dir)
    local conf = { "Port " .. port, "Listen 127.0.0.1", "Timeout 30", "MaxClients 200",
                   "LogFile \"" .. dir .. "/proxy.log\"", "LogLevel Info", "Allow 127.0.0.1",
                   "DisableViaHeader Yes" }
    if opts.auth then
      local user, password = opts.auth:match("^([^:]+):(.*)$")
      conf[#conf + 1] = "BasicAuth " .. user .. " " .. password
    end
    cli.write_file(dir .. "/tinyproxy.conf", table.concat(conf, "\n") .. "\n")
    return { "tinyproxy", "-d", "-c", dir .. "/tinyproxy.conf" }
  end)
  self.url = "http://127.0.0.1:" .. self.port
  self.log = function(s) return s:file("proxy.log") end
  return self
end

---------------------------------------------------------------------------
-- A raw server: answers `reply` to the first bytes of each connection, then closes it. As a
-- plain HTTP server answers a TLS hello (400), or a TLS server a plain request (an alert).
---------------------------------------------------------------------------
local RAW_SERVER = [[
local socket = require "socket"
local server = assert(socket.bind("127.0.0.1", tonumber(arg[1])))
local reply = arg[2]:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
while true do
  local c = server:accept()
  if c then
    c:settimeout(2)
    c:receive(1)
    c:send(reply)
    c:close()
  end
end
]]

function M.raw_server(reply)
  local encoded = reply:gsub("[^%w ]", function(ch) return ("%%%02X"):format(ch:byte()) end)
  local self = start("raw server", function(port, dir)
    cli.write_file(dir .. "/raw-server.lua", RAW_SERVER)
    return { cli.HOST, dir .. "/raw-server.lua", tostring(port), encoded }
  end)
  self.url = "https://127.0.0.1:" .. self.port .. "/v2"
  return self
end

M.free_port = free_port

return M
