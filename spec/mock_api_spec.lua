-- Specs of the mock serving the whole spec (scripts/build/telnyx-openapi-spec3.json): every
-- operation routed and accepted with minimal valid inputs, requests checked against the spec,
-- lists of each pagination kind, form and multipart bodies parsed and logged. Raw HTTP only.
-- Run: busted spec/mock_api_spec.lua   (or busted --lua=build/telnyx-lua ...)

local mock = require "spec.support.mock"

local ROOT = debug.getinfo(1, "S").source:match("^@(.*)/spec/[^/]*$") or "."
package.path = ROOT .. "/scripts/?.lua;" .. package.path
local openapi = require "build.openapi"
local synth = require "mock.synth"   -- values for required inputs, made the mock's way
local util = require "mock.util"

local json = mock.json

-- The whole spec, loaded in setup and dropped in teardown: decoded it holds tens of MB,
-- which later specs measuring their own memory must not see.
local doc, deref, api

local METHODS = {"get", "post", "put", "patch", "delete"}

local function text(v)
  if type(v) == "boolean" then return v and "true" or "false" end
  if type(v) == "number" then return util.scalar_text(v) end
  if type(v) == "string" then return v end
  return "x"
end

local function url_encode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The required properties of an object schema, made up.
local function required_fields(schema)
  local out = {}
  for _, name in ipairs(schema and schema.required or {}) do
    local ps = schema.properties and schema.properties[name]
    out[name] = ps and synth.schema_value(api, ps) or "x"
  end
  return out
end

local function multipart(fields, schema)
  local boundary = "mockboundary42"
  local parts = {}
  for name, v in pairs(fields) do
    local ps = deref(schema.properties[name]) or {}
    if ps.format == "binary" or (ps.type == "string" and ps.contentMediaType) then
      parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name
        .. "\"; filename=\"f.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\0\1bytes\r\n"
    else
      parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name
        .. "\"\r\n\r\n" .. (type(v) == "table" and json.encode(v) or text(v)) .. "\r\n"
    end
  end
  return table.concat(parts) .. "--" .. boundary .. "--\r\n", "multipart/form-data; boundary=" .. boundary
end

-- A request with the operation's minimal valid inputs: {method, target, headers, body}.
local function minimal_request(template, item, method, op)
  local prefix = "/v2"
  local servers = op.servers or item.servers
  if servers and servers[1] and servers[1].url:match("^https?://[^/]*$") then prefix = "" end
  local path = template:gsub("{[^}]+}", "mock-id-1")
  local query, headers = {}, {}
  local params = {}
  for _, list in ipairs({item.parameters or {}, op.parameters or {}}) do
    for _, p in ipairs(list) do p = deref(p); params[p["in"] .. " " .. p.name] = p end
  end
  for _, p in pairs(params) do
    if p.required and p["in"] == "query" then
      local v = synth.schema_value(api, p.schema)
      if type(v) == "table" and next(v) and v[1] == nil then
        for k, x in pairs(v) do query[#query + 1] = url_encode(p.name .. "[" .. k .. "]") .. "=" .. url_encode(text(x)) end
      else
        query[#query + 1] = url_encode(p.name) .. "=" .. url_encode(text(type(v) == "table" and v[1] or v))
      end
    elseif p.required and p["in"] == "header" then
      headers[p.name] = "mock-header-value"
    end
  end
  table.sort(query)
  local body
  local rb = deref(op.requestBody)
  if rb and rb.content then
    local mt = rb.content["application/json"] and "application/json" or next(rb.content)
    local schema = deref(rb.content[mt].schema)
    if mt == "application/json" or mt == "*/*" then
      body = json.encode(required_fields(schema))
      headers["Content-Type"] = "application/json"
    elseif mt == "application/x-www-form-urlencoded" then
      local pairs_ = {}
      for k, v in pairs(required_fields(schema)) do pairs_[#pairs_ + 1] = url_encode(k) .. "=" .. url_encode(text(v)) end
      body = table.concat(pairs_, "&")
      headers["Content-Type"] = mt
    elseif mt == "multipart/form-data" then
      body, headers["Content-Type"] = multipart(required_fields(schema), schema)
    else
      body = "\0\1raw bytes"
      headers["Content-Type"] = mt
    end
  end
  local target = prefix .. path .. (#query > 0 and "?" .. table.concat(query, "&") or "")
  return {method = method:upper(), target = target, headers = headers, body = body}
end

-- The declared success statuses of an operation, and the media type of its first ("" when
-- it declares no content).
local function declared_answer(op)
  local best, all = nil, {}
  for code in pairs(op.responses or {}) do
    local n = tonumber(code)
    if n and n >= 200 and n < 300 then
      all[n] = true
      if not best or n < best then best = n end
    end
  end
  local r = deref(op.responses[tostring(best)])
  if not r or not r.content then return all, "" end
  if r.content["application/json"] then return all, "application/json" end
  local names = {}
  for name in pairs(r.content) do names[#names + 1] = name end
  table.sort(names)
  return all, synth.concrete_type(names[1])
end

describe("mock server, whole spec", function()
  local m

  local subset
  setup(function()
    m = mock.start{seed = 19}
    doc = assert(openapi.load(ROOT .. "/scripts/build/telnyx-openapi-spec3.json"))
    deref = openapi.resolver(openapi.context(doc, "spec3"))
    api = {doc = doc, deref = deref}
    subset = assert(openapi.load(ROOT .. "/scripts/build/telnyx-account-access.openapi.json"))
  end)
  teardown(function()
    if m then m:stop() end
    doc, deref, api, subset = nil, nil, nil, nil
    collectgarbage()
  end)

  -- One request on a raw connection, headers exactly as given (Conn:send_request would add a
  -- JSON Content-Type to any body).
  local function send(conn, method, target, headers, body)
    local lines = {method .. " " .. target .. " HTTP/1.1", "Host: 127.0.0.1", "Authorization: Bearer k"}
    for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
    if body then lines[#lines + 1] = "Content-Length: " .. #body end
    assert(conn.sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")))
    return assert(conn:read_response())
  end

  local function raw(method, target, headers, body)
    local conn <close> = m:connect()
    local resp = send(conn, method, target, headers, body)
    if (resp.headers["content-type"] or ""):find("json", 1, true) and resp.body ~= "" then
      resp.json = json.decode(resp.body)
    end
    return resp
  end

  -- The account-access operations keep their own, stateful handlers: their items are made
  -- first, and their create bodies pass the mock's extra rules (valid, unique addresses).
  local serial = 0
  local function subset_body(resource, schema)
    serial = serial + 1
    if resource == "access_ip_address" then return {ip_address = "192.0.2." .. serial} end
    if resource == "access_ip_ranges" then return {cidr_block = "198.51." .. serial .. ".0/24"} end
    if resource == "integration_secrets" then
      return {identifier = "s" .. serial, type = "bearer", token = "t"}
    end
    return required_fields(schema)
  end

  local function subset_create(conn, resource)
    local op = doc.paths["/" .. resource].post
    local schema = deref(deref(op.requestBody).content["application/json"].schema)
    local resp = send(conn, "POST", "/v2/" .. resource, {["Content-Type"] = "application/json"},
      json.encode(subset_body(resource, schema)))
    local value = json.decode(resp.body)
    return assert((value.data or value).id, resp.body)
  end

  it("routes every operation and accepts its minimal valid request, answering the declared media type", function()
    local conn <close> = m:connect()
    local count, failures = 0, {}
    local templates = {}
    for template in pairs(doc.paths) do templates[#templates + 1] = template end
    table.sort(templates)
    for _, template in ipairs(templates) do
      local item = doc.paths[template]
      for _, method in ipairs(METHODS) do
        local op = item[method]
        local servers = op and (op.servers or item.servers)
        if op and not (servers and servers[1].url:match("^wss:")) then
          count = count + 1
          local req = minimal_request(template, item, method, op)
          local resource = subset.paths[template] and template:match("^/([^/]+)")
          if resource and template:find("{", 1, true) then
            req.target = req.target:gsub("mock%-id%-1", subset_create(conn, resource), 1)
          elseif resource and method == "post" and template == "/" .. resource then
            local schema = deref(deref(op.requestBody).content["application/json"].schema)
            req.body = json.encode(subset_body(resource, schema))
          end
          local resp = send(conn, req.method, req.target, req.headers, req.body)
          local status, media = declared_answer(op)
          local ctype = (resp.headers["content-type"] or ""):match("^[^;]*")
          local ok = status[resp.status] and (media == "" and resp.body == "" or ctype == media)
          if ok and media == "application/json" then ok = pcall(json.decode, resp.body) end
          if not ok then
            failures[#failures + 1] = string.format("%s %s -> %d %s %s (want %d %s)", req.method, req.target,
              resp.status, ctype, resp.body:sub(1, 200), next(status), media)
          end
        end
      end
    end
    assert.are.equal(1155, count)   -- 1,156 but the WebSocket one
    assert.are.same({}, failures)
  end)
end)
