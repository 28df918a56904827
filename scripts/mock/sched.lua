-- The scheduler: one coroutine per connection; they yield ("read", sock),
-- ("write", sock) or ("sleep", until_ms) and a select loop resumes them.

local util = require "mock.util"

local socket, log_error, now_ms = util.socket, util.log_error, util.now_ms

local min, max = math.min, math.max
local traceback = debug.traceback

local MAX_WAIT = 0.05          -- longest socket.select wait, so a SIGINT hook lands promptly

-- woke_ms: when select last returned; whatever it found readable had arrived by then.
local M = {woke_ms = 0}

-- Sockets that coroutines wait on, kept as the array socket.select takes, so the
-- loop does not rebuild it on every turn: socks stays dense (a removal moves the
-- last socket into the hole), pos maps a socket to its index, co to its coroutine.
local readers, writers
do
  local function new_waiters()
    local w = {socks = {}, n = 0, pos = {}, co = {}}
    function w.add(sock, co)
      if not w.pos[sock] then
        w.n = w.n + 1
        w.socks[w.n], w.pos[sock] = sock, w.n
      end
      w.co[sock] = co
    end
    -- Forgets sock; returns the coroutine that waited on it, if any.
    function w.take(sock)
      local i = w.pos[sock]
      if not i then return nil end
      local socks, n = w.socks, w.n
      local last = socks[n]
      socks[i], w.pos[last] = last, i
      socks[n], w.pos[sock], w.n = nil, nil, n - 1
      local co = w.co[sock]
      w.co[sock] = nil
      return co
    end
    return w
  end
  readers, writers = new_waiters(), new_waiters()
end

-- Timers: a binary min-heap ordered by deadline, then by insertion (seq), so
-- timers with equal deadlines fire first in, first out.
local timers = {n = 0, seq = 0}
do
  local function earlier(a, b)
    return a.at < b.at or (a.at == b.at and a.seq < b.seq)
  end

  function timers.push(at, co)
    timers.seq = timers.seq + 1
    local t = {at = at, seq = timers.seq, co = co}
    timers.n = timers.n + 1
    local i = timers.n
    while i > 1 do
      local parent = i // 2
      if not earlier(t, timers[parent]) then break end
      timers[i] = timers[parent]
      i = parent
    end
    timers[i] = t
  end

  function timers.pop()
    local top, last = timers[1], timers[timers.n]
    timers[timers.n] = nil
    local n = timers.n - 1
    timers.n = n
    if n > 0 then
      local i = 1
      while true do
        local child = 2 * i
        if child > n then break end
        if child < n and earlier(timers[child + 1], timers[child]) then child = child + 1 end
        if not earlier(timers[child], last) then break end
        timers[i] = timers[child]
        i = child
      end
      timers[i] = last
    end
    return top
  end
end

local function wait_read(sock) coroutine.yield("read", sock) end
local function wait_write(sock) coroutine.yield("write", sock) end
local function sleep_until(at) coroutine.yield("sleep", at) end
local function sleep_ms(ms) sleep_until(now_ms() + ms) end

-- Looks at the sockets during long work (a coroutine yielding "poll"). seen[sock]: when a look
-- found sock readable (its bytes had arrived by then, before the select that hands them
-- over); looked_ms: when the last look was.
local arrivals = {seen = setmetatable({}, {__mode = "k"}), looked_ms = 0}

local function resume(co, ...)
  local ok, what, arg = coroutine.resume(co, ...)
  if not ok then
    log_error(traceback(co, what))
  elseif coroutine.status(co) == "suspended" then
    if what == "read" then readers.add(arg, co)
    elseif what == "write" then writers.add(arg, co)
    elseif what == "sleep" then timers.push(arg, co)
    elseif what == "poll" then
      -- A look every half millisecond at most: each costs a select.
      local now = now_ms()
      if now - max(M.woke_ms, arrivals.looked_ms) >= 0.5 then
        arrivals.looked_ms = now
        local readable, seen = socket.select(readers.socks, nil, 0), arrivals.seen
        now = now_ms()
        for _, sock in ipairs(readable) do
          if readers.co[sock] and not seen[sock] then seen[sock] = now end
        end
      end
      return resume(co)
    end
  end
end

-- Resumes every due timer, in deadline order, and those that fall due meanwhile:
-- going back to select with a timer already due would only make it later.
local function run_due_timers()
  local now = now_ms()
  while timers.n > 0 do
    if timers[1].at > now then
      now = now_ms()
      if timers[1].at > now then return end
    end
    resume(timers.pop().co)
  end
end

-- The loop: forever, until an error (SIGINT's "interrupted!") ends it. accept(server) takes
-- the new connections when the listening socket is readable.
local function run(server, accept)
  readers.add(server, false)   -- always watched; readable means a connection to accept
  while true do
    local timeout = MAX_WAIT
    if timers.n > 0 then timeout = min(MAX_WAIT, max(0, (timers[1].at - now_ms()) / 1000)) end
    local readable, writable = socket.select(readers.socks, writers.socks, timeout)
    M.woke_ms = now_ms()
    for _, sock in ipairs(readable) do
      if sock == server then
        accept(server)
      else
        local co = readers.take(sock)
        if co then resume(co) end
      end
    end
    for _, sock in ipairs(writable) do
      local co = writers.take(sock)
      if co then resume(co) end
    end
    run_due_timers()
  end
end

M.readers = readers
M.writers = writers
M.timers = timers
M.arrivals = arrivals
M.resume = resume
M.wait_read = wait_read
M.wait_write = wait_write
M.sleep_until = sleep_until
M.sleep_ms = sleep_ms
M.run = run
return M
