-- A list of each of the 12 pagination kinds (scripts/build/SOURCES.md), walked through the
-- client under its official name against the mock, which pages a seeded collection by the
-- kind's rule (scripts/mock/pagination.lua): every item once, each next page asked for with
-- the kind's own query parameter, and the walk stops. (spec/pagination_kinds_spec.lua walks
-- canned pages; spec/mock_api_spec.lua the mock's pages over raw HTTP.)
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"
local operations = require "telnyx.operations"
local pagination = require "telnyx.pagination"

-- kind, the list's path template, its page size parameter, the requests a walk of 55 items
-- by 10 takes: 6 pages, and one more where the kind stops only on an empty page.
local KINDS = {
  { "DefaultFlatPagination", "/oauth_clients", "page[size]", 6 },
  { "DefaultFlatPaginationTopLevelArray", "/ai/mcp_servers", "page[size]", 7 },
  { "DefaultFlatPaginationForInexplicitNumberOrders", "/inexplicit_number_orders", "page_size", 6 },
  { "DefaultPaginationForLogMessages", "/external_connections/log_messages", "page[size]", 6 },
  { "DefaultPaginationForMessagingTollfree", "/messaging_tollfree/verification/requests", "page_size", 7 },
  { "DefaultPaginationForQueues", "/texml/Accounts/{account_sid}/Queues", "PageSize", 7 },
  { "PerPagePagination", "/legacy/reporting/usage_reports/voice", "per_page", 6 },
  { "PerPagePaginationV2", "/10dlc/brand", "recordsPerPage", 6 },
  { "CursorFlatPagination", "/storage/kvs/{id}/keys", "limit", 6 },
  { "EmailCursorPagination", "/email_templates", "page_size", 6 },
  { "EmailBracketCursorPagination", "/email_threads", "page[size]", 6 },
  { "CloudfsCursorPagination", "/storage/cloudfs", "page[limit]", 6 },
}

-- The bound list operation of a path template.
local function list_op(template)
  for _, op in ipairs(operations.all()) do
    if op.http_method == "GET" and op.path == template and op.pagination then return op end
  end
  error("no paginated list at " .. template)
end

-- No operation of the spec pages by EmailBracketCursorPagination: the SDK's four lists of that
-- kind (email_threads, email_inboxes.*) are among the endpoints it has and the spec lacks. The
-- mock serves GET /email_threads; this entry, as the generator would write it from the TSV's
-- row, binds it (telnyx._bind_op).
local EMAIL_THREADS = {
  resource = "email_threads", method = "list", operation_id = "ListEmailThreads", http_method = "GET",
  path = "/email_threads", path_params = {}, pagination = "EmailBracketCursorPagination",
  accept = "application/json", response = "json", success = { 200 },
  query = { { name = "page[after]", type = "string" }, { name = "page[size]", type = "integer" } },
}

describe("each pagination kind through the client against the mock", function()
  local m, c

  setup(function()
    m = mock.start { seed = 19 }
    c = H.client(m, { max_retries = 0 })
  end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  it("covers the 12 kinds", function()
    local names = {}
    for _, k in ipairs(KINDS) do names[k[1]] = true end
    for kind in pairs(pagination) do assert.is_true(names[kind], kind) end
    assert.are.equal(12, #KINDS)
  end)

  for _, k in ipairs(KINDS) do
    local kind, template, size, want_requests = table.unpack(k)
    it(kind .. " (" .. template .. "): every one of 55 items once, then it stops", function()
      local op = template == "/email_threads" and EMAIL_THREADS or list_op(template)
      assert.are.equal(kind, op.pagination)
      assert.are.equal(55, m:seed(template, 55).total)
      local r, method = c, nil
      if op == EMAIL_THREADS then
        r, method = c.billing_groups, telnyx._bind_op(op) -- any Resource: the entry says the rest
      else
        for part in op.resource:gmatch("[^.]+") do r = r[part] end
        method = r[op.method]
      end
      local params = { [size] = 10 }
      local argv = {}
      if op.positional then argv[1] = "p-1" end
      for p in template:gmatch("{([^}]+)}") do
        if p ~= op.positional then params[p] = "p-1" end
      end
      argv[#argv + 1] = params
      local seen, n = {}, 0
      for item in method(r, table.unpack(argv)) do
        -- records made from the schema's example share it: only real ids must differ
        if item.id then
          assert.is_nil(seen[item.id], "seen twice: " .. tostring(item.id))
          seen[item.id] = true
        end
        n = n + 1
      end
      assert.are.equal(55, n)
      local reqs = m:requests()
      assert.are.equal(want_requests, #reqs)
      -- the first page asks for page 1 (or no cursor), each next one by the kind's parameter
      local param = pagination[kind].param
      for i, req in ipairs(reqs) do
        assert.are.equal("10", req.query_params[size])
        local v = req.query_params[param]
        if pagination[kind].number then
          assert.are.equal(tostring(i), v, param .. " of request " .. i)
        elseif i == 1 then
          assert.is_nil(v)
        else
          assert.is_string(v, param .. " of request " .. i)
        end
      end
    end)
  end
end)
