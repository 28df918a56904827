--[[
scripts/bench/workload.lua: the measured client programs of `make bench` (scripts/bench/run.lua
runs each one as a child process and takes its wall time, CPU and peak RSS from the OS).
TELNYX_API_KEY and TELNYX_BASE_URL point at the local mock. Each prints one line of counts on
stdout, which the driver checks, so a run that did less work than it should is an error, and
ends it with loop_cpu=SECONDS: the CPU time (user + system, from the OS through os.clock) the
process spent in its requests, start-up left out. list and create put first_cpu=SECONDS before
it: the part of that the first request took, which alone pays what a process does once (libcurl's
global init, the connection, loading the pager), so the driver can tell the cost of a request.

  workload.lua list SIZE                  iterate every access IP, SIZE per page
  workload.lua create COUNT FIRST         COUNT sequential creates of addresses FIRST, FIRST+1, ...
  workload.lua map COUNT FIRST CONC       the same creates through telnyx.map at concurrency CONC
  workload.lua get COUNT ID               COUNT retrieves of one access IP (the mock's simple GET)
  workload.lua page COUNT SIZE            COUNT fetches of one page of SIZE access IPs

Addresses are numbered: address n is 172.16.0.0 + n (so up to 1,048,575 distinct ones).
]]

local telnyx = require "telnyx"

local function address(n)
  local v = (172 << 24 | 16 << 16) + n
  return string.format("%d.%d.%d.%d", v >> 24 & 255, v >> 16 & 255, v >> 8 & 255, v & 255)
end

local function int(s, what)
  local n = math.tointeger(tonumber(s))
  if not n then
    io.stderr:write("workload.lua: ", what, " must be an integer\n")
    os.exit(2)
  end
  return n
end

local client = telnyx.new()
local ips = client.access_ip_address
local what = arg[1]
local clock = os.clock
local started = clock()

local first_cpu -- CPU until the first request was answered, when the workload notes it

local function report(fmt, ...)
  local loop_cpu = clock() - started
  print(string.format(fmt, ...) .. (first_cpu and string.format(" first_cpu=%.6f", first_cpu) or "")
        .. string.format(" loop_cpu=%.6f", loop_cpu))
end

if what == "list" then
  local size, items = int(arg[2], "SIZE"), 0
  started = clock()
  for _ in ips:list{ page = { size = size } } do
    items = items + 1
    if items == 1 then first_cpu = clock() - started end
  end
  report("items=%d", items)

elseif what == "create" then
  local count, first = int(arg[2], "COUNT"), int(arg[3], "FIRST")
  local created = 0
  started = clock()
  for n = first, first + count - 1 do
    if ips:create{ ip_address = address(n) }.id then created = created + 1 end
    if n == first then first_cpu = clock() - started end
  end
  report("created=%d", created)

elseif what == "map" then
  local count, first, conc = int(arg[2], "COUNT"), int(arg[3], "FIRST"), int(arg[4], "CONC")
  local list = {}
  for i = 1, count do list[i] = address(first + i - 1) end
  started = clock()
  local results, failures = telnyx.map(list, function(ip)
    return ips:create{ ip_address = ip }.id
  end, { concurrency = conc })
  local created = 0
  for i = 1, count do
    if results[i] ~= nil then created = created + 1 end
  end
  report("created=%d failed=%d", created, #failures)

elseif what == "get" then
  local count, id = int(arg[2], "COUNT"), arg[3]
  local got = 0
  started = clock()
  for _ = 1, count do
    if ips:retrieve(id).id == id then got = got + 1 end
  end
  report("got=%d", got)

elseif what == "page" then
  local count, size = int(arg[2], "COUNT"), int(arg[3], "SIZE")
  local items = 0
  started = clock()
  for _ = 1, count do
    local page = client:request("GET", "/access_ip_address", { query = { page = { number = 1, size = size } } })
    items = items + #page.data
  end
  report("items=%d", items)

else
  io.stderr:write("usage: workload.lua list|create|map|get|page ...\n")
  os.exit(2)
end
