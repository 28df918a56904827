-- The mock and the other servers the bench starts: each on a free port, every one stopped at
-- the end (also on failure or Ctrl-C, by stop_all); the mock's control API (reset, seed,
-- counts, the request log) and the CPU it used, read from /proc.

local json = require("telnyx").json
local util = require "bench.util"
local cfg = require "bench.config"
local socket = util.require_system "socket"
local http = util.require_system "socket.http"
local ltn12 = util.require_system "ltn12"

local format, concat = string.format, table.concat
local read_file, q = util.read_file, util.q

local M = {}

local procs = {} -- every server started ({pid =}), stopped by stop_all

function M.alive(pid) return read_file("/proc/" .. pid .. "/stat") ~= nil end

-- CPU seconds the process has used: schedstat (ns) when the kernel has it, else stat (ticks).
local CLK_TCK = tonumber(util.capture("getconf CLK_TCK 2>/dev/null")) or 100
function M.cpu(pid)
  local s = read_file("/proc/" .. pid .. "/schedstat")
  local ns = s and tonumber(s:match("^(%d+)"))
  if ns then return ns / 1e9 end
  s = read_file("/proc/" .. pid .. "/stat")
  if not s then return 0 end
  local fields = {}
  for f in s:gsub("^.*%) ", ""):gmatch("%S+") do fields[#fields + 1] = f end
  -- after "pid (comm) ": field 3 is state, so utime (14) and stime (15) are at 12 and 13
  return (tonumber(fields[12]) + tonumber(fields[13])) / CLK_TCK
end

-- Adds a server ({pid =}) to those stop_all stops.
function M.track(p) procs[#procs + 1] = p end

-- Stops a server: TERM, then KILL if it is still there after 2 s.
function M.stop(m)
  if not m.pid or not M.alive(m.pid) then return end
  os.execute("kill " .. m.pid .. " 2>/dev/null")
  for _ = 1, 100 do
    if not M.alive(m.pid) then return end
    socket.sleep(0.02)
  end
  os.execute("kill -9 " .. m.pid .. " 2>/dev/null")
end

function M.stop_all()
  for _, p in ipairs(procs) do M.stop(p) end
end

-- Starts the mock answering every API request `latency` ms after it arrived; returns
-- {pid =, root = "http://127.0.0.1:PORT", base = root .. "/v2"}.
function M.start(latency)
  local out = cfg.tmp(format("mock%d.out", #procs + 1))
  local cmd = format("%s %s --port 0 --seed 1 --latency %d >%s 2>%s.err </dev/null & echo $!",
                     q(cfg.HOST), q(cfg.MOCK), latency, q(out), q(out))
  local m = { pid = tonumber(util.capture(cmd)), latency = latency, out = out }
  M.track(m)
  if not m.pid then error("could not start the mock") end
  for _ = 1, 500 do
    local text = read_file(out) or ""
    local port = text:match("listening on http://127%.0%.0%.1:(%d+)/v2")
    if port then
      m.root = "http://127.0.0.1:" .. port
      m.base = m.root .. "/v2"
      return m
    end
    if not M.alive(m.pid) then break end
    socket.sleep(0.02)
  end
  error("the mock did not start: " .. (read_file(out .. ".err") or ""))
end

-- One request to the mock (control API, or the API with a key); returns the decoded body.
function M.call(m, method, path, body, api)
  local chunks = {}
  local headers = {}
  if body then
    body = json.encode(body)
    headers["content-type"] = "application/json"
    headers["content-length"] = tostring(#body)
  end
  if api then headers["authorization"] = "Bearer bench" end
  local ok, code = http.request{
    url = (api and m.base or m.root) .. path, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil, sink = ltn12.sink.table(chunks),
  }
  if not ok or code < 200 or code > 299 then
    error(format("mock %s %s: %s %s", method, path, tostring(code), concat(chunks)))
  end
  local text = concat(chunks)
  return text ~= "" and json.decode(text) or nil
end

function M.reset(m) M.call(m, "POST", "/__mock/reset", { seed = 1 }) end

function M.seed(m, count)
  local r = M.call(m, "POST", "/__mock/seed", { resource = "access_ip_address", count = count })
  assert(r.total == count, "seeding gave " .. tostring(r.total) .. " records, not " .. count)
end

-- How many access IPs the mock holds.
function M.total(m)
  return M.call(m, "GET", "/access_ip_address?page%5Bsize%5D=1", nil, true).meta.total_results
end

-- How many requests the mock has served.
function M.requests(m) return M.call(m, "GET", "/__mock/stats").requests end

-- Where a concurrent run's time went, from the mock's request log (arrival, when due, when
-- answered, per connection) and the run's start and end (measure's t_start, t_end): {late =
-- mean ms an answer left after it was due, turnaround = mean ms from an answer leaving to the
-- connection's next request of the same method arriving}, over the requests of `method`, and
-- the run's phases in ms: before the first request, from it to the first `method` request (the
-- first read and the plan), those requests, the requests after them, after the last answer.
function M.round_times(m, method, r)
  local late, n_late, turn, n_turn, last = 0, 0, 0, 0, {}
  local first, m0, m1, answered = math.huge, math.huge, -math.huge, -math.huge
  for _, e in ipairs(M.call(m, "GET", "/__mock/requests")) do
    if type(e.t_arrived_ms) == "number" and type(e.t_answered_ms) == "number" then
      first, answered = math.min(first, e.t_arrived_ms), math.max(answered, e.t_answered_ms)
      if e.method == method then
        m0, m1 = math.min(m0, e.t_arrived_ms), math.max(m1, e.t_answered_ms)
        if type(e.t_due_ms) == "number" then
          late, n_late = late + (e.t_answered_ms - e.t_due_ms), n_late + 1
          local prev = last[e.conn]
          if prev then turn, n_turn = turn + (e.t_arrived_ms - prev.t_answered_ms), n_turn + 1 end
          last[e.conn] = e
        end
      end
    end
  end
  local t = { late = n_late > 0 and late / n_late or nil, turnaround = n_turn > 0 and turn / n_turn or nil }
  if m0 < math.huge then
    t.before, t.lead, t.main = first - r.t_start * 1000, m0 - first, m1 - m0
    t.tail, t.after = answered - m1, r.t_end * 1000 - answered
  end
  return t
end

return M
