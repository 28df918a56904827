-- One connection's life: requests read one after another, each answered by the control API,
-- a fault rule or the API (after the configured latency), until either side closes.

local util = require "mock.util"
local sched = require "mock.sched"
local http = require "mock.http"
local requests = require "mock.requests"
local faults = require "mock.faults"
local api = require "mock.api"
local control = require "mock.control"
local responses = require "mock.responses"
local state = require("mock.state").state

local socket, log_error = util.socket, util.log_error
local resume, sleep_until, run = sched.resume, sched.sleep_until, sched.run
local open_conn, close_conn, send_all, render_response, send_response, read_request =
  http.open_conn, http.close_conn, http.send_all, http.render_response, http.send_response, http.read_request
local begin_entry, end_entry = requests.begin_entry, requests.end_entry
local take_fault, run_fault = faults.take_fault, faults.run_fault
local route_api = api.route_api
local control_response = control.control_response
local error_response = responses.error_response

local sub, match = string.sub, string.match
local traceback = debug.traceback

local function api_response(req)
  local ok, resp = xpcall(route_api, traceback, req)
  if ok then return resp end
  log_error(resp)
  return error_response(nil, 500, "The mock server failed: " .. tostring(match(resp, "^[^\n]*")))
end

-- Returns whether the connection stays open.
local function serve_api(conn, req)
  local entry = begin_entry(conn, req)
  -- The latency counts from the request's arrival, as it would at a server with workers to
  -- spare: the answer is made now and waits out the rest. Counted from its making, each answer
  -- of a burst would also wait for those made before it, and a one-thread mock would add its
  -- own queueing to every round of a concurrent client.
  local due = state.latency_ms > 0 and entry.t_arrived_ms + state.latency_ms
  if due then entry.t_due_ms = due end
  local rule = take_fault(req.method, req.path)
  local keep, status
  if rule then
    entry.fault = rule.action
    if due then sleep_until(due) end
    keep, status = run_fault(conn, req, rule)
  else
    local resp = api_response(req)
    keep = req.keep_alive and not resp.close
    status = resp.status
    local bytes = render_response(resp, keep, req.method)
    if due then sleep_until(due) end
    keep = send_all(conn, bytes) and keep
  end
  end_entry(entry, status)
  conn.entry = nil
  return keep
end

-- Connection loop

local function connection_loop(conn)
  while not conn.closed do
    local req, failure = read_request(conn)
    if not req then
      if failure then send_response(conn, failure, false) end
      return
    end
    local keep
    if sub(req.path, 1, 8) == "/__mock/" then
      keep = req.keep_alive
      keep = send_response(conn, control_response(req), keep, req.method) and keep
    else
      keep = serve_api(conn, req)
    end
    if not keep then return end
  end
end

local function serve_connection(conn)
  local ok, err = xpcall(connection_loop, traceback, conn)
  if not ok then log_error(err) end
  close_conn(conn)
end

local function accept_all(server)
  while true do
    local sock = server:accept()
    if not sock then return end
    local conn = open_conn(sock)
    if conn then resume(coroutine.create(serve_connection), conn) end
  end
end

-- Serves on the listening socket until an error (SIGINT's "interrupted!") ends the loop.
local function serve(server)
  return run(server, accept_all)
end

return {serve = serve}
