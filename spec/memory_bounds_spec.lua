-- The memory a process holds for answers is bounded (src/http.c, src/json.c): per answer once
-- decoded (a small gzip answer that inflates to [{},{},...] would make far more Lua values
-- than its bytes), and across the answers of every transfer in flight together. The budget is
-- TELNYX_MAX_RESPONSE_BYTES. A hostile server of this spec's own (luasocket, in this process)
-- answers a child telnyx-lua, which reports its peak resident memory (VmHWM); the bounds are
-- well below what the unbounded client reaches, and no run is timed.
local socket = require "socket"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

local MIB = 1024 * 1024
local BUDGET = 16 * MIB

-- Peak resident memory in MiB, from the child's "VmHWM: N kB" line.
local function peak_mib(out)
  local kb = out:match("VmHWM:%s*(%d+) kB")
  assert(kb, "no VmHWM line in: " .. out)
  return tonumber(kb) / 1024
end

local CHILD_TAIL = [[
for line in io.lines("/proc/self/status") do
  if line:match("^VmHWM") then print(line) end
end
]]

-- Runs `code` in a background telnyx-lua against `port` while serve(server, done) answers it;
-- returns { stdout, status }.
local function with_child(code, port, serve)
  local dir = cli.tmpdir()
  local script, out, st = dir .. "/child.lua", dir .. "/out", dir .. "/status"
  cli.write_file(script, code .. CHILD_TAIL)
  local env = table.concat({
    "export TELNYX_API_KEY=" .. cli.quote(H.API_KEY),
    "export TELNYX_BASE_URL=" .. cli.quote(("http://127.0.0.1:%d/v2"):format(port)),
    "export TELNYX_MAX_RESPONSE_BYTES=" .. BUDGET,
    "unset TELNYX_LOG TELNYX_CUSTOM_HEADERS",
    -- a sanitizer build (make sanitize) keeps freed blocks in quarantine, up to 256 MB by
    -- default: resident, but not held by the program, so kept small for the measure
    os.getenv("ASAN_OPTIONS") and ("export ASAN_OPTIONS=" .. cli.quote(os.getenv("ASAN_OPTIONS")
      .. ":quarantine_size_mb=8")) or ":",
  }, "; ")
  local launcher = assert(io.popen(("(%s; timeout -k 2 60 %s %s >%s 2>&1 </dev/null; echo $? >%s) & echo $!")
    :format(env, cli.quote(cli.HOST), cli.quote(script), cli.quote(out), cli.quote(st))))
  launcher:read("l")
  launcher:close()
  local function done() return cli.read_file(st) ~= nil end
  local deadline = socket.gettime() + 90
  serve(done, deadline)
  while not done() and socket.gettime() < deadline do socket.sleep(0.05) end
  local r = { stdout = cli.read_file(out) or "", status = tonumber(cli.read_file(st) or "") }
  cli.rmdir(dir)
  return r
end

local function read_request(conn)
  conn:settimeout(10)
  repeat local line = conn:receive("*l") until line == nil or line == ""
end

describe("memory held for answers", function()
  local server, port

  before_each(function()
    server = assert(socket.bind("127.0.0.1", 0))
    server:settimeout(0.05)
    port = select(2, server:getsockname())
  end)
  after_each(function() server:close() end)

  it("a 2xx gzip answer that inflates to millions of tiny tables fails clearly, in bounded memory", function()
    local dir = cli.tmpdir()
    -- about 8 MB of text: [{},{},...] (2.8 million tables: over 200 MB of Lua values unbounded),
    -- written in pieces so that this process never holds it
    local gzip = assert(io.popen("gzip -9 -c >" .. cli.quote(dir .. "/bomb.gz"), "w"))
    local piece = string.rep("{},", 100000)
    gzip:write("[")
    for _ = 1, 28 do gzip:write(piece) end
    gzip:write("{}]")
    assert(gzip:close())
    local gz = cli.read_file(dir .. "/bomb.gz")
    cli.rmdir(dir)
    assert.is_true(#gz < 100 * 1024, "the gzip body is " .. #gz .. " bytes")
    local r = with_child([[
      local telnyx = require "telnyx"
      local c = telnyx.new { max_retries = 0, timeout = 30 }
      local ok, err = pcall(c.request, c, "GET", "/bomb")
      print("ok", ok, telnyx.is_error(err) and err.type, tostring(err))
    ]], port, function(done, deadline)
      while not done() and socket.gettime() < deadline do
        local conn = server:accept()
        if conn then
          read_request(conn)
          conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                    .. "Content-Length: " .. #gz .. "\r\nConnection: close\r\n\r\n" .. gz)
          conn:close()
        end
      end
    end)
    assert.are.equal(0, r.status, r.stdout)
    assert.is_true(peak_mib(r.stdout) < 100, ("peak %.0f MiB"):format(peak_mib(r.stdout)))
    assert.matches("ok\tfalse\tAPIStatusError\t.*more than " .. BUDGET .. " bytes.*TELNYX_MAX_RESPONSE_BYTES", r.stdout)
  end)

  it("eight 24 MB answers in flight at once: the budget fails them, none holds the whole", function()
    local N, HALF = 8, 12 * MIB
    -- {"data":"xxx..."} of 2 * HALF bytes, sent in 1 MiB pieces (this process holds no more)
    local head, tail, piece = '{"data":"', '"}', string.rep("x", MIB)
    local function send_half(conn, first)
      local left = HALF - (first and #head or #tail)
      if first then conn:send(head) end
      while left > 0 do
        local n = math.min(left, MIB)
        if not conn:send(n == MIB and piece or piece:sub(1, n)) then return end
        left = left - n
      end
      if not first then conn:send(tail) end
    end
    local r = with_child(([[
      local telnyx = require "telnyx"
      local c = telnyx.new { max_retries = 0, timeout = 30 }
      local items = {}
      for i = 1, %d do items[i] = i end
      local results, failures = telnyx.map(items, function()
        return #c:request("GET", "/flood").data
      end, { concurrency = %d })
      print("failures", #failures)
      for _, f in ipairs(failures) do print("error", f.error.type, tostring(f.error)) end
    ]]):format(N, N), port, function(done, deadline)
      local conns = {}
      while #conns < N and not done() and socket.gettime() < deadline do
        local conn = server:accept()
        if conn then
          read_request(conn)
          conns[#conns + 1] = conn
        end
      end
      -- the first half of every answer, then the rest: all of them in flight together
      for _, conn in ipairs(conns) do
        conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. 2 * HALF
                  .. "\r\nConnection: close\r\n\r\n")
        send_half(conn, true)
      end
      for _, conn in ipairs(conns) do
        send_half(conn, false)
        conn:close()
      end
    end)
    assert.are.equal(0, r.status, r.stdout)
    assert.is_true(peak_mib(r.stdout) < 100, ("peak %.0f MiB"):format(peak_mib(r.stdout)))
    assert.matches("failures\t" .. N, r.stdout)
    local errors = H.lines_with(r.stdout, "error\t")
    assert.are.equal(N, #errors, r.stdout)
    for _, line in ipairs(errors) do assert.matches("TELNYX_MAX_RESPONSE_BYTES", line) end
  end)

  it("a bad TELNYX_MAX_RESPONSE_BYTES is a clear error at the first request", function()
    for _, bad in ipairs { "lots", "-5", "0", "12k" } do
      local r = cli.run { cli.HOST, "-e", [[
        local telnyx = require "telnyx"
        local c = telnyx.new { api_key = "k", base_url = "http://127.0.0.1:9/v2", max_retries = 0 }
        print(pcall(c.request, c, "GET", "/x"))
        print(pcall(function() for _ in c.billing_groups:list() do end end))
      ]], env = { TELNYX_MAX_RESPONSE_BYTES = bad } }
      -- one plain line, from a direct request and from a pager alike: no position of a caller
      local want = "TELNYX_MAX_RESPONSE_BYTES must be a whole number of bytes from 1, got '"
                   .. bad:gsub("%-", "%%-") .. "'\n"
      assert.matches("^false\t" .. want .. "false\t" .. want .. "$", r.stdout)
    end
  end)
end)
