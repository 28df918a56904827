-- The request log and the stats that GET /__mock/requests and /__mock/stats serve: an entry
-- per API request, opened when it is read and closed when it is answered (or not).

local util = require "mock.util"
local forms = require "mock.forms"
local state = require("mock.state").state

local NULL, log, now_ms = util.NULL, util.log, util.now_ms

local floor = math.floor

local MAX_LOG = 20000

-- Log entries whose request is still in flight (kept out of the entries, which are served as is).
local open_entries = setmetatable({}, {__mode = "k"})

local function end_entry(entry, status)
  if not entry or not open_entries[entry] then return end
  open_entries[entry] = nil
  local now = now_ms()
  entry.t_end_ms = floor(now)
  entry.status = status or NULL
  if status then entry.t_answered_ms = now end
  state.stats.in_flight = state.stats.in_flight - 1
  if util.verbose then   -- not only log(): its arguments cost even when they go nowhere
    log("%s %s%s -> %s (%d ms)", entry.method, entry.path, entry.query ~= "" and "?" .. entry.query or "",
      tostring(status or "no answer"), entry.t_end_ms - entry.t_start_ms)
  end
end

local function begin_entry(conn, req)
  local stats = state.stats
  if not conn.api then
    conn.api = true
    stats.connections_open = stats.connections_open + 1
  end
  if conn.epoch ~= stats.epoch then
    conn.epoch = stats.epoch
    stats.connections_opened = stats.connections_opened + 1
  end
  stats.requests = stats.requests + 1
  stats.in_flight = stats.in_flight + 1
  if stats.in_flight > stats.peak_in_flight then stats.peak_in_flight = stats.in_flight end

  state.next_request_seq = state.next_request_seq + 1
  local entry = {seq = state.next_request_seq, method = req.method, path = req.path,
                 query = req.query, query_params = req.query_params, headers = req.headers,
                 body = req.body, conn = conn.id, t_start_ms = floor(now_ms()),
                 t_end_ms = NULL, status = NULL, t_arrived_ms = conn.data_ms or now_ms(),
                 t_due_ms = NULL, t_answered_ms = NULL}
  entry.content_type = req.headers["content-type"] or NULL
  -- form and multipart bodies as they were parsed: fields, and parts without their data
  local form = forms.parsed(req)
  if form then
    entry.form = form.fields or NULL
    if form.parts then entry.parts = forms.part_summaries(form.parts) end
    if form.error then entry.form_error = form.error end
  end
  local lg = state.log
  lg.last = lg.last + 1
  lg[lg.last] = entry
  if lg.last - lg.first >= MAX_LOG then
    lg[lg.first] = nil
    lg.first = lg.first + 1
  end
  conn.entry = entry
  open_entries[entry] = true
  return entry
end

return {begin_entry = begin_entry, end_entry = end_entry}
