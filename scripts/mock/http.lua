-- Connections and HTTP/1.1: reading requests (Content-Length or chunked bodies, Expect:
-- 100-continue, keep-alive) and writing responses, over the scheduler's non-blocking sockets.

local util = require "mock.util"
local sched = require "mock.sched"
local requests = require "mock.requests"
local responses = require "mock.responses"
local state = require("mock.state").state

local socket, JSON_TYPE, now_ms, parse_query =
  util.socket, util.JSON_TYPE, util.now_ms, util.parse_query
local readers, writers, arrivals, wait_read, wait_write =
  sched.readers, sched.writers, sched.arrivals, sched.wait_read, sched.wait_write
local end_entry = requests.end_entry
local error_response = responses.error_response

local concat = table.concat
local find, sub, gsub, lower, byte, match, gmatch =
  string.find, string.sub, string.gsub, string.lower, string.byte, string.match, string.gmatch
local floor, min = math.floor, math.min

local READ_CHUNK = 65536
local MAX_HEAD = 64 * 1024
local MAX_BODY = 64 * 1024 * 1024
local MAX_CONNS = 900          -- select() cannot watch descriptors at or past FD_SETSIZE (1024)

local REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [202] = "Accepted", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [408] = "Request Timeout", [409] = "Conflict",
  [413] = "Payload Too Large", [415] = "Unsupported Media Type", [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large", [500] = "Internal Server Error",
  [501] = "Not Implemented", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

-- Open connections (closed all at once at exit), and how many, against MAX_CONNS.
local open_conns, open_count = {}, 0

-- A connection for an accepted socket, or nil (the socket closed) when there are too many.
local function open_conn(sock)
  if open_count >= MAX_CONNS then
    sock:close()
    return nil
  end
  sock:settimeout(0)
  sock:setoption("tcp-nodelay", true)
  state.next_conn_id = state.next_conn_id + 1
  local conn = {sock = sock, id = state.next_conn_id, buf = "", eof = false}
  open_conns[conn] = true
  open_count = open_count + 1
  return conn
end

local function close_conn(conn)
  if conn.closed then return end
  conn.closed = true
  conn.sock:close()
  readers.take(conn.sock)
  writers.take(conn.sock)
  open_conns[conn] = nil
  open_count = open_count - 1
  if conn.api then state.stats.connections_open = state.stats.connections_open - 1 end
  end_entry(conn.entry, nil)
end

local function close_all()
  for conn in pairs(open_conns) do conn.sock:close() end
end

-- Appends what the socket has to conn.buf, waiting if it has nothing yet.
-- Returns false at end of stream.
-- conn.data_ms: a time by which the bytes last read had arrived (never before they did), so
-- the latency of a request in a burst counts from its arrival, not from when the mock got
-- round to reading it.
local function fill_buffer(conn)
  if conn.eof then return false end
  local ready_ms
  while true do
    local data, err, partial = conn.sock:receive(READ_CHUNK)
    local chunk = data or partial
    if err and err ~= "timeout" then conn.eof = true end
    if chunk and chunk ~= "" then
      conn.buf = conn.buf .. chunk
      conn.data_ms = ready_ms or now_ms()
      return true
    end
    if conn.eof then return false end
    wait_read(conn.sock)
    -- resumed by the select that found the socket readable, or seen so earlier (a look
    -- during the long work of this select's batch is later than the select, not earlier)
    ready_ms = min(arrivals.seen[conn.sock] or sched.woke_ms, sched.woke_ms)
    arrivals.seen[conn.sock] = nil
  end
end

local function read_exact(conn, n)
  local buf = conn.buf
  if #buf >= n then
    conn.buf = sub(buf, n + 1)
    return sub(buf, 1, n)
  end
  local parts, have = {buf}, #buf
  conn.buf = ""
  while have < n do
    if not fill_buffer(conn) then return nil end
    parts[#parts + 1], have, conn.buf = conn.buf, have + #conn.buf, ""
  end
  local all = concat(parts)
  conn.buf = sub(all, n + 1)
  return sub(all, 1, n)
end

local function read_line(conn, limit)
  while true do
    local e = find(conn.buf, "\n", 1, true)
    if e then
      local line = sub(conn.buf, 1, e - 1)
      conn.buf = sub(conn.buf, e + 1)
      return (gsub(line, "\r$", ""))
    end
    if #conn.buf > limit or not fill_buffer(conn) then return nil end
  end
end

local function send_all(conn, data)
  local i, n = 1, #data
  while i <= n do
    local last, err, partial = conn.sock:send(data, i)
    if last then
      i = last + 1
    elseif err == "timeout" then
      i = partial + 1
      if i <= n then wait_write(conn.sock) end
    else
      return false
    end
  end
  return true
end

local date_cache_s, date_cache = -1, ""
local function http_date()
  local s = floor(socket.gettime())
  if s ~= date_cache_s then
    date_cache_s, date_cache = s, os.date("!%a, %d %b %Y %H:%M:%S GMT", s)
  end
  return date_cache
end

local render_head
do
  local NO_OVERRIDES = {}

  -- Head of a response: the mock's usual fields (length = nil leaves Content-Length
  -- out; chunked adds Transfer-Encoding), then `overrides` (a fault rule's headers),
  -- which replace usual fields of the same name, case-insensitively. Without
  -- overrides, one concatenation builds it.
  function render_head(status, content_type, length, keep_alive, overrides, chunked)
    local request_id = state.request_rng.uuid()   -- drawn even when overridden
    local drop = NO_OVERRIDES
    if overrides then
      drop = {}
      for name in pairs(overrides) do drop[lower(name)] = true end
    end
    local head = "HTTP/1.1 " .. tostring(status) .. " " .. (REASONS[status] or "Unknown") .. "\r\n"
      .. ((content_type and not drop["content-type"]) and "Content-Type: " .. content_type .. "\r\n" or "")
      .. ((length and not drop["content-length"]) and "Content-Length: " .. tostring(length) .. "\r\n" or "")
      .. (drop["x-request-id"] and "" or "x-request-id: " .. request_id .. "\r\n")
      .. (drop.date and "" or "Date: " .. http_date() .. "\r\n")
      .. (drop.connection and "" or "Connection: " .. (keep_alive and "keep-alive" or "close") .. "\r\n")
      .. ((chunked and not drop["transfer-encoding"]) and "Transfer-Encoding: chunked\r\n" or "")
    if not overrides then return head .. "\r\n" end
    local out = {head}
    for name, value in pairs(overrides) do
      out[#out + 1] = gsub(name, "[\r\n:]", "") .. ": " .. gsub(tostring(value), "[\r\n]", " ") .. "\r\n"
    end
    out[#out + 1] = "\r\n"
    return concat(out)
  end
end

-- resp = {status=, body=?, content_type=? (false: none), headers=?}; a 204 carries neither a
-- body nor Content-Length (RFC 9110 8.6); the answer to a HEAD has no body.
-- The bytes of a response: head and body.
local function render_response(resp, keep_alive, method)
  local status, body = resp.status, resp.body or ""
  local no_body = status == 204 or status == 304
  local content_type = resp.content_type
  if content_type == nil then content_type = JSON_TYPE end
  local head = render_head(status, (not no_body and content_type) or nil,
    (not no_body) and #body or nil, keep_alive, resp.headers)
  if no_body or method == "HEAD" then body = "" end
  return head .. body
end

local function send_response(conn, resp, keep_alive, method)
  return send_all(conn, render_response(resp, keep_alive, method))
end

local function bad_request(status, detail)
  local resp = error_response(nil, status, detail)
  resp.close = true
  return resp
end

local function read_chunked_body(conn)
  local parts, total = {}, 0
  while true do
    local line = read_line(conn, 1024)
    if not line then return nil, bad_request(400, "Truncated chunked body.") end
    local size = tonumber(match(line, "^%s*(%x+)") or "", 16)
    if not size then return nil, bad_request(400, "Malformed chunk size.") end
    if size == 0 then
      repeat
        line = read_line(conn, 8192)
        if not line then return nil, bad_request(400, "Truncated chunked trailer.") end
      until line == ""
      return concat(parts)
    end
    total = total + size
    if total > MAX_BODY then return nil, bad_request(413) end
    local data = read_exact(conn, size)
    if not data then return nil, bad_request(400, "Truncated chunked body.") end
    parts[#parts + 1] = data
    if read_line(conn, 2) ~= "" then return nil, bad_request(400, "Malformed chunk.") end
  end
end

local find_head_end, parse_headers
do
  -- Where the head in buf ends, as find(buf, "\r?\n\r?\n") would say: the first "\n"
  -- followed by "\n" or "\r\n", and a "\r" just before it. Plain finds: a pattern
  -- search would try a match at every byte of the request.
  function find_head_end(buf)
    local lf_lf, lf_crlf = find(buf, "\n\n", 1, true), find(buf, "\n\r\n", 1, true)
    local nl, e
    if lf_lf and (not lf_crlf or lf_lf < lf_crlf) then nl, e = lf_lf, lf_lf + 1
    elseif lf_crlf then nl, e = lf_crlf, lf_crlf + 2
    else return nil end
    return byte(buf, nl - 1) == 13 and nl - 1 or nl, e
  end

  -- The header lines of a block (runs of anything but CR and LF) as a table by
  -- lower-cased name, or nil if a line is not "token: value".
  local function parse(block)
    local headers = {}
    for line in gmatch(block, "[^\r\n]+") do
      local name, value = match(line, "^([%w!#$%%&'*+%-.^_`|~]+):[ \t]*(.-)[ \t]*$")
      if not name then return nil end
      name = lower(name)
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
    return headers
  end

  -- Blocks parsed before, by their text: a client sends the same header block on
  -- every request but for a few values (Content-Length), and matching patterns
  -- over every byte of it costs more than the rest of reading a request. Bounded:
  -- blocks up to 4 KB, at most 64 (then it starts over).
  local parsed, parsed_count = {}, 0

  -- Like parse, but a fresh table from the cache when the block was seen before.
  function parse_headers(block)
    local known = parsed[block]
    if not known then
      known = parse(block)
      if not known then return nil end
      if #block <= 4096 then
        if parsed_count >= 64 then parsed, parsed_count = {}, 0 end
        parsed[block], parsed_count = known, parsed_count + 1
      end
    end
    local headers = {}
    for name, value in pairs(known) do headers[name] = value end
    return headers
  end
end

-- Returns the next request, or nil plus a response to send before closing
-- (nil at a clean end of stream).
local function read_request(conn)
  local buf, head_end
  while true do
    local first = byte(conn.buf, 1)
    if first == 13 or first == 10 then conn.buf = gsub(conn.buf, "^[\r\n]+", "") end
    local s, e = find_head_end(conn.buf)
    if s then
      buf, head_end = conn.buf, s   -- the head is buf up to head_end - 1
      conn.buf = sub(buf, e + 1)
      break
    end
    if #conn.buf > MAX_HEAD then return nil, bad_request(431, "Request headers are too large.") end
    if not fill_buffer(conn) then
      if conn.buf ~= "" then return nil, bad_request(400, "Truncated request head.") end
      return nil
    end
  end

  -- The request line ends at the first CR or LF (there is one: the head ends in them).
  local cr, lf = find(buf, "\r", 1, true), find(buf, "\n", 1, true)
  local line_end = (cr and lf) and min(cr, lf) or cr or lf
  local reqline = sub(buf, 1, line_end - 1)
  local method, target, version = match(reqline, "^(%u+) (%S+) HTTP/(1%.[01])$")
  if not method then return nil, bad_request(400, "Malformed request line.") end
  local headers = parse_headers(sub(buf, line_end, head_end - 1))
  if not headers then return nil, bad_request(400, "Malformed header line.") end

  local path, query = match(target, "^([^?#]*)%??([^#]*)")
  if sub(path, 1, 1) ~= "/" then path = gsub(path, "^https?://[^/]*", "") end
  if sub(path, 1, 1) ~= "/" then return nil, bad_request(400, "Malformed request target.") end

  local connection = lower(headers.connection or "")
  local keep_alive
  if version == "1.0" then keep_alive = find(connection, "keep-alive", 1, true) ~= nil
  else keep_alive = not find(connection, "close", 1, true) end

  local expects = lower(headers.expect or "") == "100-continue"
  local body = ""
  local te = headers["transfer-encoding"]
  if te then
    if not find(lower(te), "chunked", 1, true) then
      return nil, bad_request(400, "Unsupported Transfer-Encoding.")
    end
    if expects and conn.buf == "" then send_all(conn, "HTTP/1.1 100 Continue\r\n\r\n") end
    local err
    body, err = read_chunked_body(conn)
    if not body then return nil, err end
  elseif headers["content-length"] then
    local n = match(headers["content-length"], "^%s*(%d+)%s*$")
    n = n and tonumber(n)
    if not n then return nil, bad_request(400, "Malformed Content-Length.") end
    if n > MAX_BODY then return nil, bad_request(413) end
    if n > 0 then
      if expects and #conn.buf < n then send_all(conn, "HTTP/1.1 100 Continue\r\n\r\n") end
      body = read_exact(conn, n)
      if not body then return nil, bad_request(400, "Truncated request body.") end
    end
  end

  return {method = method, target = target, path = path, query = query,
          query_params = parse_query(query), headers = headers, body = body,
          keep_alive = keep_alive}
end

return {open_conn = open_conn, close_conn = close_conn, close_all = close_all, fill_buffer = fill_buffer,
        send_all = send_all, render_head = render_head, render_response = render_response,
        send_response = send_response, read_request = read_request}
