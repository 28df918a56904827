-- The pager for every pagination kind of the API (scripts/build/SOURCES.md), against canned
-- pages served in order by the mock's fault rules: each kind walks every page, asks for the
-- next one with its own query parameter, and stops on its own rule. Servers that page
-- dishonestly (a page number that does not advance, a cursor seen before, the same pages for
-- every page number asked, absurd totals) end
-- the walk with an error naming the field, never an endless walk.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

local function list_op(kind)
  return telnyx._bind_op {
    resource = "kinds", method = "list", operation_id = "List" .. kind, http_method = "GET",
    path = "/kinds/" .. kind, path_params = {}, pagination = kind, accept = "application/json",
    response = "json", success = { 200 }, query = { { name = "filter", type = "string" } },
  }
end

local function items(page, n) return { { id = page .. "a" }, { id = page .. "b" } } end

-- kind -> pages (bodies, in order), the query parameter and the value expected on each request.
local KINDS = {
  DefaultFlatPagination = {
    param = "page[number]", sent = { "1", "2", "3" },
    pages = function(i) return { data = items(i), meta = { page_number = i, total_pages = 3 } } end, n = 3 },
  DefaultFlatPaginationTopLevelArray = {
    param = "page[number]", sent = { "1", "2", "3", "4" },
    pages = function(i) return i <= 3 and items(i) or "[]" end, n = 4 },
  DefaultFlatPaginationForInexplicitNumberOrders = {
    param = "page_number", sent = { "1", "2", "3" },
    pages = function(i) return { data = items(i), meta = { page_number = i, total_pages = 3 } } end, n = 3 },
  DefaultPaginationForLogMessages = {
    param = "page[number]", sent = { "1", "2", "3" },
    pages = function(i) return { log_messages = items(i), meta = { page_number = i, total_pages = 3 } } end, n = 3 },
  DefaultPaginationForMessagingTollfree = {
    param = "page", sent = { "1", "2", "3" },
    pages = function(i) return { records = items(i), total_records = 3 } end, n = 3 },
  DefaultPaginationForQueues = {
    param = "Page", sent = { "1", "2", "3", "4" },
    pages = function(i) return i <= 3 and { queues = items(i), page = i - 1 } or '{"queues":[]}' end, n = 4 },
  PerPagePagination = {
    param = "page", sent = { "1", "2", "3" },
    pages = function(i) return { data = items(i), meta = { page_number = i, total_pages = 3 } } end, n = 3 },
  PerPagePaginationV2 = {
    param = "page", sent = { "1", "2", "3" },
    pages = function(i) return { records = items(i), page = i, totalRecords = 6 } end, n = 3 },
  CursorFlatPagination = {
    param = "cursor", sent = { nil, "c2", "c3" },
    pages = function(i) return { data = items(i), meta = { cursor = i < 3 and "c" .. (i + 1) or nil } } end, n = 3 },
  EmailCursorPagination = {
    param = "page_cursor", sent = { nil, "c2", "c3" },
    pages = function(i) return { data = items(i), meta = { page_cursor = i < 3 and "c" .. (i + 1) or nil } } end, n = 3 },
  EmailBracketCursorPagination = {
    param = "page[after]", sent = { nil, "c2", "c3" },
    pages = function(i) return { data = items(i), meta = { page_cursor = i < 3 and "c" .. (i + 1) or nil } } end, n = 3 },
  CloudfsCursorPagination = {
    param = "page[after]", sent = { nil, "c2", "c3" },
    pages = function(i) return { data = items(i), meta = { cursors = { after = i < 3 and "c" .. (i + 1) or "" } } } end, n = 3 },
}

describe("pagination kinds", function()
  local m, c

  setup(function()
    m = mock.start { seed = 22 }
    c = H.client(m, { max_retries = 0 })
  end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  -- Queues `bodies` to answer the requests of `path`, one each, in order.
  local function serve(path, bodies)
    for _, body in ipairs(bodies) do m:fault { path = path, status = 200, body = body } end
  end

  local function serve_kind(kind, k)
    local bodies = {}
    for i = 1, k.n do bodies[i] = k.pages(i) end
    serve("/v2/kinds/" .. kind, bodies)
  end

  for kind, k in pairs(KINDS) do
    it(kind .. ": walks every page with " .. k.param .. " and stops on its rule", function()
      serve_kind(kind, k)
      local got = list_op(kind)(c.billing_groups, { filter = "f" }):collect()
      assert.are.same({ "1a", "1b", "2a", "2b", "3a", "3b" }, (function()
        local ids = {}
        for i, item in ipairs(got) do ids[i] = item.id end
        return ids
      end)())
      local reqs = m:requests()
      assert.are.equal(k.n, #reqs, "requests sent")
      for i, r in ipairs(reqs) do
        assert.are.equal(k.sent[i], r.query_params[k.param], "request " .. i .. ": " .. r.query)
        assert.are.equal("f", r.query_params.filter)
      end
      assert.are.equal(0, #m:faults(), "every canned page was asked for")
      -- pages() walks the same pages
      m:reset()
      serve_kind(kind, k)
      local n = 0
      for page in list_op(kind)(c.billing_groups):pages() do
        n = n + 1
        assert.is_table(page)
      end
      assert.are.equal(3, n)
      assert.are.equal(k.n, #m:requests())
    end)
  end

  -- Walks a pager, failing the spec (instead of looping forever) past `max` items.
  local function walk(pager, max)
    local n = 0
    for _ in pager do
      n = n + 1
      if n > max then error("walked past " .. max .. " items: the pager does not stop") end
    end
    return n
  end

  describe("dishonest servers", function()
    it("a meta.page_number stuck at 1 ends the walk with an error naming the field", function()
      m:fault { path = "/v2/kinds/", status = 200, count = -1,
                body = { data = { { id = "x" } }, meta = { page_number = 1, total_pages = 5 } } }
      for _, kind in ipairs { "DefaultFlatPagination", "PerPagePagination", "DefaultFlatPaginationForInexplicitNumberOrders" } do
        m:clear_requests()
        local err = H.failure(walk, list_op(kind)(c.billing_groups), 20)
        assert.is_true(telnyx.is_error(err, "APIStatusError"), tostring(err))
        assert.matches("meta.page_number did not advance (1 after 1)", err.message, 1, true)
        assert.are.equal(2, #m:requests())
      end
    end)

    it("the generated lists too: billing_groups:list against a stuck page number", function()
      m:fault { path = "/v2/billing_groups", status = 200, count = -1,
                body = { data = { { id = "x" } }, meta = { page_number = 1, total_pages = 1e9 } } }
      local err = H.failure(walk, c.billing_groups:list(), 20)
      assert.matches("meta.page_number did not advance (1 after 1)", err.message, 1, true)
    end)

    it("a page number that goes back is refused too", function()
      serve("/v2/kinds/", {
        { data = { { id = "a" } }, meta = { page_number = 1, total_pages = 9 } },
        { data = { { id = "b" } }, meta = { page_number = 2, total_pages = 9 } },
        { data = { { id = "c" } }, meta = { page_number = 1, total_pages = 9 } },
      })
      local err = H.failure(walk, list_op("DefaultFlatPagination")(c.billing_groups), 20)
      assert.matches("meta.page_number did not advance (1 after 2)", err.message, 1, true)
    end)

    it("the same cursor twice ends the walk with an error naming the field", function()
      m:fault { path = "/v2/kinds/", status = 200, count = -1,
                body = { data = { { id = "x" } }, meta = { cursor = "same" } } }
      local err = H.failure(walk, list_op("CursorFlatPagination")(c.billing_groups), 20)
      assert.matches("meta.cursor did not advance", err.message, 1, true)
      assert.are.equal(2, #m:requests())
    end)

    it("a cycle of cursors is found in constant memory and ends the walk", function()
      local bodies = {}
      for i = 1, 30 do
        bodies[i] = { data = { { id = i } }, meta = { cursors = { after = ({ "A", "B", "C" })[i % 3 + 1] } } }
      end
      serve("/v2/kinds/", bodies)
      local err = H.failure(walk, list_op("CloudfsCursorPagination")(c.billing_groups), 25)
      assert.matches("meta.cursors.after did not advance", err.message, 1, true)
    end)

    it("meta.total_pages = 1e9 sizes nothing: the walk ends on the empty page", function()
      serve("/v2/kinds/", {
        { data = { { id = "a" } }, meta = { page_number = 1, total_pages = 1e9 } },
        { data = { { id = "b" } }, meta = { page_number = 2, total_pages = 1e9 } },
        '{"data":[],"meta":{"page_number":3,"total_pages":1e9}}',
      })
      local before = collectgarbage("count")
      local got = list_op("DefaultFlatPagination")(c.billing_groups):collect()
      assert.are.equal(2, #got)
      assert.is_true(collectgarbage("count") - before < 1024, "memory grew with total_pages")
      assert.are.equal(3, #m:requests())
    end)

    it("absurd page numbers and totals are clear errors", function()
      serve("/v2/kinds/", { '{"data":[{"id":1}],"meta":{"page_number":1e300,"total_pages":5}}' })
      local err = H.failure(walk, list_op("DefaultFlatPagination")(c.billing_groups), 20)
      assert.matches("meta.page_number that is not a page number", err.message, 1, true)
      serve("/v2/kinds/", { { data = { { id = 1 } }, meta = { page_number = 1, total_pages = "lots" } } })
      err = H.failure(walk, list_op("DefaultFlatPagination")(c.billing_groups), 20)
      assert.matches("meta.total_pages that is not a count", err.message, 1, true)
      serve("/v2/kinds/", { { records = { { id = 1 } }, totalRecords = -1 } })
      err = H.failure(walk, list_op("PerPagePaginationV2")(c.billing_groups), 20)
      assert.matches("totalRecords that is not a count", err.message, 1, true)
    end)

    -- The kinds whose next page number is the last one sent + 1: the server's pages are the
    -- only sign that it ignores the number.
    local SENT = {
      DefaultFlatPaginationTopLevelArray = function(list) return list end,
      DefaultPaginationForQueues = function(list) return { queues = list } end,
      DefaultPaginationForMessagingTollfree = function(list) return { records = list, total_records = 1e9 } end,
      PerPagePaginationV2 = function(list) return { records = list, totalRecords = 1e9 } end,
    }

    for kind, page in pairs(SENT) do
      it(kind .. ": a server that ignores the page number ends the walk with an error", function()
        m:fault { path = "/v2/kinds/", status = 200, count = -1, body = page { { id = "x" }, { id = "y" } } }
        local err = H.failure(walk, list_op(kind)(c.billing_groups), 50)
        assert.is_true(telnyx.is_error(err, "APIStatusError"), tostring(err))
        assert.matches("list response repeats a page: page 2 has the same items as an earlier page", err.message, 1, true)
        assert.are.equal(2, #m:requests())
      end)
    end

    it("items without ids: the same page again is found, different pages are walked", function()
      local same = { { name = "n", tags = { "a", "b" } }, { name = "m", n = 1 } }
      m:fault { path = "/v2/kinds/", status = 200, count = -1, body = { records = same, totalRecords = 1e9 } }
      local err = H.failure(walk, list_op("PerPagePaginationV2")(c.billing_groups), 50)
      assert.matches("repeats a page", err.message, 1, true)
      m:reset()
      serve("/v2/kinds/", {
        { records = { { name = "n", tags = { "a" } } }, totalRecords = 3 },
        { records = { { name = "n", tags = { "b" } } }, totalRecords = 3 }, -- differs only deep down
        { records = { { name = "n", tags = { "b" }, x = 1 } }, totalRecords = 3 },
      })
      assert.are.equal(3, walk(list_op("PerPagePaginationV2")(c.billing_groups), 50))
    end)

    it("a cycle of pages that ignores the page number ends the walk", function()
      local bodies = {}
      for i = 1, 30 do bodies[i] = { queues = { { id = ({ "A", "B", "C" })[i % 3 + 1] } } } end
      serve("/v2/kinds/", bodies)
      local err = H.failure(walk, list_op("DefaultPaginationForQueues")(c.billing_groups), 25)
      assert.matches("repeats a page", err.message, 1, true)
    end)

    it("a page without the kind's items array is an error naming it", function()
      serve("/v2/kinds/", { { data = { { id = 1 } } } })
      local err = H.failure(walk, list_op("DefaultPaginationForQueues")(c.billing_groups), 20)
      assert.matches("list response has no queues array", err.message, 1, true)
    end)
  end)
end)
