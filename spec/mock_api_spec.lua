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
    headers = headers or {}
    local lines = {method .. " " .. target .. " HTTP/1.1", "Host: 127.0.0.1"}
    if headers.Authorization == nil then lines[#lines + 1] = "Authorization: Bearer k" end
    for k, v in pairs(headers) do
      if v ~= "" then lines[#lines + 1] = k .. ": " .. v end
    end
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

  local function first_error(resp, status)
    assert.are.equal(status, resp.status, resp.body)
    local e = assert(resp.json and resp.json.errors and resp.json.errors[1], resp.body)
    assert.is_string(e.detail)
    return e
  end

  describe("checks requests against the spec", function()
    it("serves the /.well-known documents at the host root, not under /v2, without credentials", function()
      local resp = raw("GET", "/.well-known/oauth-authorization-server", {Authorization = ""})
      assert.are.equal(200, resp.status)
      assert.is_table(resp.json)
      assert.are.equal(404, raw("GET", "/v2/.well-known/oauth-authorization-server").status)
      assert.are.equal(401, raw("GET", "/v2/messaging_profiles", {Authorization = ""}).status)
    end)

    it("answers 405 with Allow for a wrong method, 404 for an unknown path", function()
      local resp = raw("PUT", "/v2/messaging_profiles")
      first_error(resp, 405)
      assert.are.equal("GET, POST", resp.headers.allow)
      first_error(raw("GET", "/v2/messaging_profiles/x/nothing_here"), 404)
    end)

    it("names an unknown query parameter, a bad type and a bad enum value", function()
      local e = first_error(raw("GET", "/v2/messaging_profiles?colour=red"), 422)
      assert.are.equal("colour", e.source.parameter)
      assert.matches("colour is not a query parameter", e.detail)
      e = first_error(raw("GET", "/v2/messaging_profiles?page%5Bnumber%5D=two"), 422)
      assert.are.equal("page[number]", e.source.parameter)
      assert.matches("integer", e.detail)
      e = first_error(raw("GET", "/v2/storage/cloudfs?filter%5Bstatus%5D=melting"), 422)
      assert.are.equal("filter[status]", e.source.parameter)
      assert.matches("must be one of: provisioning", e.detail)
      e = first_error(raw("GET", "/v2/messaging_tollfree/verification/requests?page_size=5"), 422)
      assert.are.same({parameter = "page"}, e.source)
    end)

    it("names a bad body field: unknown, missing, mistyped, not in the enum", function()
      local ct = {["Content-Type"] = "application/json"}
      local good = {name = "c", allowed_scopes = {"x"}, client_type = "public",
                    allowed_grant_types = {"client_credentials"}}
      local function with(k, v)
        local b = {}
        for key, x in pairs(good) do b[key] = x end
        b[k] = v
        return json.encode(b)
      end
      assert.are.equal(200, raw("POST", "/v2/oauth_clients", ct, json.encode(good)).status // 100 * 100)
      local e = first_error(raw("POST", "/v2/oauth_clients", ct, with("favourite", 1)), 422)
      assert.are.same({pointer = "/favourite"}, e.source)
      e = first_error(raw("POST", "/v2/oauth_clients", ct, with("name", nil)), 422)
      assert.are.same({pointer = "/name"}, e.source)
      assert.matches("name is required", e.detail)
      e = first_error(raw("POST", "/v2/oauth_clients", ct, with("name", 5)), 422)
      assert.matches("name must be of type string", e.detail)
      e = first_error(raw("POST", "/v2/oauth_clients", ct, with("client_type", "secretive")), 422)
      assert.are.same({pointer = "/client_type"}, e.source)
      assert.matches("must be one of", e.detail)
      first_error(raw("POST", "/v2/oauth_clients", ct, "{not json"), 400)
    end)

    it("answers 415 naming the accepted types for a wrong Content-Type", function()
      local e = first_error(raw("POST", "/v2/messaging_profiles", {["Content-Type"] = "text/csv"}, "a,b"), 415)
      assert.are.same({parameter = "Content-Type"}, e.source)
      assert.matches("text/csv", e.detail)
      assert.matches("application/json", e.detail)
    end)

    it("refuses a required body that was not sent at all; an empty one of the declared type passes", function()
      for _, case in ipairs({ { "POST", "/v2/call_reasons/validate", "application/json" },
                              { "PUT", "/v2/storage/kvs/ns1/keys/k1", "application/octet-stream" } }) do
        local e = first_error(raw(case[1], case[2], {}), 422)
        assert.are.same({pointer = "/"}, e.source)
        assert.are.equal("a request body is required (" .. case[3] .. ")", e.detail)
      end
      local resp = raw("PUT", "/v2/storage/kvs/ns1/keys/k1", {["Content-Type"] = "application/octet-stream"}, "")
      assert.are.equal(2, resp.status // 100)
    end)

    it("refuses a missing required header, naming it", function()
      local ct = {["Content-Type"] = "application/json"}
      local e = first_error(raw("POST", "/v2/storage/cloudfs", ct, '{"name":"fs","region":"us-east-1"}'), 422)
      assert.are.same({parameter = "Idempotency-Key"}, e.source)
      e = first_error(raw("POST", "/v2/storage/cloudfs/abc/actions/rotate-meta-token", {}), 422)
      assert.are.same({parameter = "Idempotency-Key"}, e.source)
      ct["Idempotency-Key"] = "k1"
      assert.are.equal(2, raw("POST", "/v2/storage/cloudfs", ct, '{"name":"fs","region":"us-east-1"}').status // 100)
    end)
  end)

  describe("keeps records of a collection", function()
    it("creates, lists, retrieves, updates and deletes on one store, merging the create's fields", function()
      local ct = {["Content-Type"] = "application/json"}
      local created = raw("POST", "/v2/messaging_profiles", ct, '{"name":"mp-1","whitelisted_destinations":["US"]}')
      assert.are.equal(200, created.status)
      local rec = created.json.data
      assert.are.equal("mp-1", rec.name)
      local got = raw("GET", "/v2/messaging_profiles/" .. rec.id).json.data
      assert.are.same(rec, got)
      local listed = raw("GET", "/v2/messaging_profiles?page%5Bsize%5D=250").json
      local found = false
      for _, x in ipairs(listed.data) do if x.id == rec.id then found = true end end
      assert.is_true(found)
      local patched = raw("PATCH", "/v2/messaging_profiles/" .. rec.id, ct, '{"name":"mp-2"}').json.data
      assert.are.equal("mp-2", patched.name)
      assert.are.equal("mp-2", raw("GET", "/v2/messaging_profiles/" .. rec.id).json.data.name)
      assert.are.equal(200, raw("DELETE", "/v2/messaging_profiles/" .. rec.id).status)
      first_error(raw("GET", "/v2/messaging_profiles/" .. rec.id), 404)
    end)
  end)

  -- One list per pagination kind, walked by the kind's rule (scripts/build/SOURCES.md).
  local function data(b) return b.data end
  local function flat_stop(b) return b.meta.page_number >= b.meta.total_pages end
  local function flat_next(b) return b.meta.page_number + 1 end
  local KINDS = {
    {"DefaultFlatPagination", "/oauth_clients", "page[size]", "page[number]", data, flat_next, flat_stop},
    {"DefaultFlatPaginationTopLevelArray", "/ai/mcp_servers", "page[size]", "page[number]",
      function(b) return b end, "sent+1"},
    {"DefaultFlatPaginationForInexplicitNumberOrders", "/inexplicit_number_orders", "page_size", "page_number",
      data, flat_next, flat_stop},
    {"DefaultPaginationForLogMessages", "/external_connections/log_messages", "page[size]", "page[number]",
      function(b) return b.log_messages end, flat_next, flat_stop},
    {"DefaultPaginationForMessagingTollfree", "/messaging_tollfree/verification/requests", "page_size", "page",
      function(b) return b.records end, "sent+1", function(b, sent) return sent >= b.total_records end, 1},
    {"DefaultPaginationForQueues", "/texml/Accounts/{account_sid}/Queues", "PageSize", "Page",
      function(b) return b.queues end, "sent+1"},
    {"PerPagePagination", "/legacy/reporting/usage_reports/voice", "per_page", "page", data, flat_next, flat_stop},
    {"PerPagePaginationV2", "/10dlc/brand", "recordsPerPage", "page", function(b) return b.records end,
      function(b) return b.page + 1 end, function(b, _, seen) return seen >= b.totalRecords end},
    {"CursorFlatPagination", "/storage/kvs/{id}/keys", "limit", "cursor", data, function(b) return b.meta.cursor end},
    {"EmailCursorPagination", "/email_templates", "page_size", "page_cursor", data,
      function(b) return b.meta.page_cursor end},
    {"EmailBracketCursorPagination", "/email_threads", "page[size]", "page[after]", data,
      function(b) return b.meta.page_cursor end},
    {"CloudfsCursorPagination", "/storage/cloudfs", "page[limit]", "page[after]", data,
      function(b) return b.meta.cursors.after end},
  }

  describe("pages each pagination kind", function()
    before_each(function() m:reset() end)
    for _, k in ipairs(KINDS) do
      local kind, template, size, param, items_of, next_of, stop, first = table.unpack(k)
      it(kind .. " (" .. template .. "): 55 items seen once each, then it stops", function()
        assert.are.equal(55, m:seed(template, 55).total)
        local path = "/v2" .. template:gsub("{[^}]+}", "acct-1")
        local seen, ids, requests = 0, {}, 0
        local value = first
        while true do
          local target = path .. "?" .. size .. "=10"
          if value ~= nil then target = target .. "&" .. param .. "=" .. tostring(value) end
          requests = requests + 1
          assert.is_true(requests <= 8, "the walk does not stop")
          local resp = raw("GET", target)
          assert.are.equal(200, resp.status, resp.body)
          local items = items_of(resp.json)
          if #items == 0 then break end
          for _, item in ipairs(items) do
            local id = item.id or json.encode(item) .. seen
            assert.is_nil(ids[id], "seen twice: " .. tostring(id))
            ids[id] = true
            seen = seen + 1
          end
          local sent = value or 1
          if next_of == "sent+1" then value = sent + 1 else value = next_of(resp.json) end
          if stop and stop(resp.json, sent, seen) then break end
          if value == nil or value == json.null then break end
        end
        assert.are.equal(55, seen)
      end)
    end
  end)

  describe("parses form and multipart bodies", function()
    it("logs a form body's fields and accepts it, refusing a missing required field", function()
      m:clear_requests()
      local ct = {["Content-Type"] = "application/x-www-form-urlencoded"}
      local resp = raw("POST", "/v2/oauth/token", ct, "grant_type=client_credentials&scope=a+b")
      assert.are.equal(200, resp.status, resp.body)
      local e = first_error(raw("POST", "/v2/oauth/token", ct, "scope=x"), 422)
      assert.are.same({pointer = "/grant_type"}, e.source)
      local entry = m:requests()[1]
      assert.are.equal("application/x-www-form-urlencoded", entry.content_type)
      assert.are.same({grant_type = "client_credentials", scope = "a b"}, entry.form)
    end)

    it("logs a multipart body's parts (names, filenames, content types, sizes) and accepts it", function()
      m:clear_requests()
      local b = "b0undary"
      local body = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nmy dict\r\n"
        .. "--" .. b .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"words.xml\"\r\n"
        .. "Content-Type: application/xml\r\n\r\n<lexicon>\r\n</lexicon>\r\n--" .. b .. "--\r\n"
      local ct = {["Content-Type"] = "multipart/form-data; boundary=" .. b}
      local resp = raw("POST", "/v2/pronunciation_dicts", ct, body)
      assert.are.equal(2, resp.status // 100, resp.body)
      local entry = m:requests()[1]
      assert.are.equal("multipart/form-data; boundary=" .. b, entry.content_type)
      assert.are.same({name = "my dict"}, entry.form)
      assert.are.same({
        {name = "name", filename = json.null, content_type = json.null, size = 7},
        {name = "file", filename = "words.xml", content_type = "application/xml", size = 21},
      }, entry.parts)
      -- without the file part, the required field is named
      local short = "--" .. b .. "\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nd\r\n--" .. b .. "--\r\n"
      local e = first_error(raw("POST", "/v2/pronunciation_dicts", ct, short), 422)
      assert.are.same({pointer = "/file"}, e.source)
      -- a multipart Content-Type without a boundary cannot be read
      e = first_error(raw("POST", "/v2/pronunciation_dicts", {["Content-Type"] = "multipart/form-data"}, body), 400)
      assert.matches("boundary", e.detail)
    end)

    it("takes an octet-stream body as it is and answers non-JSON documents as bytes of their type", function()
      m:clear_requests()
      local resp = raw("GET", "/v2/documents/doc-1/download")
      assert.are.equal(200, resp.status)
      assert.are.equal(1, #m:requests())
      assert.is_not.matches("json", resp.headers["content-type"] or "")
    end)
  end)
end)
