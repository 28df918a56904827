-- Fault injection (POST /__mock/faults): rules that match requests by method and path and
-- answer with a status, odd bodies, delays, hangs, closes or resets instead of the API.

local util = require "mock.util"
local sched = require "mock.sched"
local http = require "mock.http"
local responses = require "mock.responses"
local state = require("mock.state").state

local JSON_TYPE, json_encode, is_array, scalar_text =
  util.JSON_TYPE, util.json_encode, util.is_array, util.scalar_text
local sleep_ms = sched.sleep_ms
local fill_buffer, send_all, render_head, send_response =
  http.fill_buffer, http.send_all, http.render_head, http.send_response
local error_response = responses.error_response

local remove = table.remove
local format, find, sub, lower, upper, rep =
  string.format, string.find, string.sub, string.lower, string.upper, string.rep
local tointeger = math.tointeger

local CLOSE_MID_BODY_FILLER = '{"data":[' .. rep('{"id":"00000000-0000-4000-8000-000000000000",'
  .. '"record_type":"filler"},', 64) .. '{}],"meta":{"total_pages":1,"total_results":65,'
  .. '"page_number":1,"page_size":65}}'
local BAD_JSON = '{"data": {"id": "3f1c", "record_type": oops'
local INVALID_UTF8 = '{"data":{"id":"7b1c2e9a-1111-4a4a-8b8b-000000000000","name":"bad \255\254 utf-8 \195\40 here"}}'
local HTML_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
  .. "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

local big_bodies = {}
local function cached_body(name, make)
  local b = big_bodies[name]
  if not b then
    b = make()
    big_bodies[name] = b
  end
  return b
end

local function huge_json()   -- about 10 MiB: 10,240 strings of 1 KiB
  return cached_body("huge", function()
    local item = '"' .. rep("x", 1022) .. '"'
    return '{"data":[' .. rep(item, 10240, ",") .. '],"meta":{"total_pages":1,'
      .. '"total_results":10240,"page_number":1,"page_size":10240}}'
  end)
end

local function deep_json()   -- an array nested 100,000 deep
  return cached_body("deep", function() return rep("[", 100000) .. rep("]", 100000) end)
end

-- Actions that answer with a whole (if odd) response: status, content type, body.
local CANNED = {
  respond = function(rule)
    local status = rule.status or 500
    return status, JSON_TYPE, rule.body or error_response(nil, status).body
  end,
  bad_json = function(rule) return rule.status or 200, JSON_TYPE, rule.body or BAD_JSON end,
  huge_body = function(rule) return rule.status or 200, JSON_TYPE, rule.body or huge_json() end,
  deep_json = function(rule) return rule.status or 200, JSON_TYPE, rule.body or deep_json() end,
  invalid_utf8 = function(rule) return rule.status or 200, JSON_TYPE, rule.body or INVALID_UTF8 end,
  html_502 = function(rule) return rule.status or 502, "text/html", rule.body or HTML_502 end,
  headers_only = function(rule) return rule.status or 200, JSON_TYPE, "" end,
  close_mid_body = function(rule) return rule.status or 200, JSON_TYPE, rule.body or CLOSE_MID_BODY_FILLER end,
  truncated_chunked = function(rule)
    return rule.status or 200, JSON_TYPE, rule.body or CLOSE_MID_BODY_FILLER
  end,
}

local FAULT_ACTIONS = {hang = true, close = true, reset = true}
for name in pairs(CANNED) do FAULT_ACTIONS[name] = true end

-- Does a rule's header set announce "Connection: close"? Then the mock closes too.
local function says_close(headers)
  for name, value in pairs(headers or {}) do
    if lower(name) == "connection" and find(lower(value), "close", 1, true) then return true end
  end
  return false
end

local function path_matches(pattern, path)
  if pattern == nil then return true end
  if sub(pattern, 1, 1) == "^" then return find(path, pattern) ~= nil end
  return sub(path, 1, #pattern) == pattern
end

local function take_fault(method, path)
  for i, rule in ipairs(state.faults) do
    if (rule.method == nil or rule.method == method) and path_matches(rule.path, path) then
      if rule.skip > 0 then
        rule.skip = rule.skip - 1
      else
        rule.hits = rule.hits + 1
        if rule.count > 0 then
          rule.count = rule.count - 1
          if rule.count == 0 then remove(state.faults, i) end
        end
        return rule
      end
    end
  end
  return nil
end

-- Waits until the peer closes, discarding anything it sends.
local function drain_until_closed(conn)
  conn.buf = ""
  while fill_buffer(conn) do conn.buf = "" end
end

-- Carries out a fault; returns keep_alive, status sent (nil when none was).
local function run_fault(conn, req, rule)
  if rule.delay_ms > 0 then sleep_ms(rule.delay_ms) end
  local action = rule.action
  if action == "hang" then
    drain_until_closed(conn)
    return false, nil
  elseif action == "close" then
    return false, nil
  elseif action == "reset" then
    conn.sock:setoption("linger", {on = true, timeout = 0})
    return false, nil
  end
  local status, content_type, body = CANNED[action](rule)
  content_type = rule.content_type or content_type
  if action == "close_mid_body" then
    local head = render_head(status, content_type, #body, true, rule.headers)
    send_all(conn, head .. sub(body, 1, #body // 2))
    return false, status
  elseif action == "truncated_chunked" then
    local half = sub(body, 1, #body // 2)
    send_all(conn, render_head(status, content_type, nil, true, rule.headers, true)
      .. format("%x\r\n%s\r\n", #half, half) .. format("%x\r\n", #body - #half)
      .. sub(body, #half + 1, #half + 16))
    return false, status
  end
  local keep = req.keep_alive and not says_close(rule.headers)
  local ok = send_response(conn, {status = status, content_type = content_type, body = body,
                                  headers = rule.headers}, keep, req.method)
  return ok and keep, status
end

-- A fault rule from its JSON description, or nil and what is wrong with it.
local function new_fault_rule(t)
  if type(t) ~= "table" or is_array(t) then return nil, "a fault rule is a JSON object" end
  local action = t.action or "respond"
  if not FAULT_ACTIONS[action] then return nil, "unknown action " .. tostring(action) end
  if t.method ~= nil and type(t.method) ~= "string" then return nil, "method must be a string" end
  if t.path ~= nil then
    if type(t.path) ~= "string" then return nil, "path must be a string" end
    if sub(t.path, 1, 1) == "^" and not pcall(find, "", t.path) then
      return nil, "path is not a valid Lua pattern"
    end
  end
  local count = t.count == nil and 1 or tointeger(t.count)
  if not count or (count < 1 and count ~= -1) then return nil, "count must be -1 or a positive integer" end
  local skip = t.skip == nil and 0 or tointeger(t.skip)
  if not skip or skip < 0 then return nil, "skip must be a non-negative integer" end
  local status = t.status ~= nil and tointeger(t.status) or nil
  if t.status ~= nil and not (status and status >= 100 and status <= 599) then
    return nil, "status must be an integer from 100 to 599"
  end
  if t.headers ~= nil and type(t.headers) ~= "table" then return nil, "headers must be an object" end
  local headers
  if t.headers and next(t.headers) then
    headers = {}
    for k, v in pairs(t.headers) do
      if type(k) ~= "string" then return nil, "headers must be an object" end
      headers[k] = type(v) == "number" and scalar_text(v) or tostring(v)
    end
  end
  local body = t.body
  if body ~= nil and type(body) ~= "string" then body = json_encode(body) end
  if t.content_type ~= nil and type(t.content_type) ~= "string" then return nil, "content_type must be a string" end
  local delay = t.delay_ms == nil and 0 or tonumber(t.delay_ms)
  if not delay or delay < 0 then return nil, "delay_ms must be a non-negative number" end
  local rule = {id = state.next_fault_id, action = action, method = t.method and upper(t.method),
                path = t.path, count = count, skip = skip, status = status, headers = headers,
                body = body, content_type = t.content_type, delay_ms = delay, hits = 0}
  state.next_fault_id = state.next_fault_id + 1
  return rule
end

return {new_fault_rule = new_fault_rule, take_fault = take_fault, run_fault = run_fault}
