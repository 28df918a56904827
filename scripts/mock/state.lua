-- Server state (everything POST /__mock/reset clears), shared by every part of the mock.

local floor, max = math.floor, math.max

local state = {
  api = nil, resources = nil, routes = nil,   -- the account-access subset (mock.routes)
  catalog = nil, generic_stores = {},          -- the whole spec (mock.catalog, mock.generic)
  seed = 0, rng = nil, request_rng = nil,
  base_latency_ms = 0, latency_ms = 0,
  last_stamp = 0, seq = 0,
  user_id = nil, organization_id = nil,
  faults = {}, next_fault_id = 1,
  log = {first = 1, last = 0}, next_request_seq = 0,
  stats = nil, next_conn_id = 0,
}

local function new_stats(previous)
  return {
    connections_opened = 0,
    connections_open = previous and previous.connections_open or 0,
    requests = 0,
    in_flight = previous and previous.in_flight or 0,
    peak_in_flight = previous and previous.in_flight or 0,
    epoch = previous and previous.epoch + 1 or 1,
  }
end

-- Creation times are strictly increasing, so "sort by created_at" is insertion order
-- and created_at filters see distinct values even for records made in the same ms.
local function next_stamp(at)
  local t = max(floor(at), state.last_stamp + 1)
  state.last_stamp = t
  return t
end

return {state = state, new_stats = new_stats, next_stamp = next_stamp}
