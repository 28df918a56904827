-- The pager of list calls (src/pager.c, lua/telnyx/pager.lua) against the mock: lazy fetches
-- counted in the mock's request log, the end of a list (meta.total_pages, an empty page),
-- page parameters kept, pages(), collect(), closing by `break`, garbage collection, flat
-- memory over 100,000 records, API errors, and pagers inside telnyx.map tasks.
local R = require "spec.support.resources"
local telnyx = require "telnyx"

describe("pager", function()
  local env = R.env()

  -- The mock reset with `n` billing groups; returns their ids in list order.
  local function billing_groups(n)
    env.m:reset(R.MOCK_SEED)
    env.m:seed("billing_groups", n)
    local ids = R.ids(R.list_all(env.client.billing_groups))
    assert.are.equal(n, #ids)
    env.m:clear_requests()
    return ids
  end

  local function requests() return env.m:requests() end

  -- page[number] of each logged request, as integers.
  local function page_numbers(reqs)
    local out = {}
    for i, req in ipairs(reqs) do out[i] = tonumber(req.query_params["page[number]"]) end
    return out
  end

  local function list(params, opts) return env.client.billing_groups:list(params, opts) end

  describe("laziness", function()
    it("creating a pager sends nothing; the first item sends exactly one request", function()
      local ids = billing_groups(20)
      local p = list { page = { size = 7 } }
      assert.are.equal("telnyx.Pager", getmetatable(p).__name)
      tostring(p)
      p:info()
      assert.are.equal(0, #requests())
      assert.are.equal(ids[1], p().id)
      local reqs = requests()
      assert.are.equal(1, #reqs)
      assert.are.equal("/v2/billing_groups", reqs[1].path)
      assert.are.equal("page%5Bnumber%5D=1&page%5Bsize%5D=7", reqs[1].query)
    end)

    it("fetches page N+1 only when page N is used up, and stops after meta.total_pages", function()
      local ids = billing_groups(20) -- pages of 7, 7 and 6
      local p = list { page = { size = 7 } }
      for i = 1, 20 do
        assert.are.equal(ids[i], p().id)
        assert.are.equal((i - 1) // 7 + 1, #requests(), "after item " .. i)
      end
      assert.is_nil(p())
      assert.is_nil(p())
      assert.are.same({ 1, 2, 3 }, page_numbers(requests()))
    end)

    it("sends no extra request when the last page is full", function()
      billing_groups(21)
      local items = list({ page = { size = 7 } }):collect()
      assert.are.equal(21, #items)
      assert.are.same({ 1, 2, 3 }, page_numbers(requests()))
    end)

    it("stops at meta.total_pages even when the page is full", function()
      billing_groups(20)
      env.m:fault { method = "GET", path = "/v2/billing_groups", status = 200,
                    body = { data = { { id = "a" }, { id = "b" } },
                             meta = { page_number = 1, total_pages = 1, page_size = 2 } } }
      assert.are.same({ "a", "b" }, R.ids(list({ page = { size = 2 } }):collect()))
      assert.are.equal(1, #requests())
    end)

    it("stops on an empty page when the answer has no total_pages", function()
      billing_groups(20)
      env.m:fault { method = "GET", path = "/v2/billing_groups", status = 200,
                    body = { data = { { id = "a" }, { id = "b" } } } }
      env.m:fault { method = "GET", path = "/v2/billing_groups", status = 200,
                    body = { data = { { id = "c" } }, meta = { page_number = 2 } } }
      env.m:fault { method = "GET", path = "/v2/billing_groups", status = 200, body = '{"data":[]}' }
      assert.are.same({ "a", "b", "c" }, R.ids(list({ page = { size = 2 } }):collect()))
      assert.are.same({ 1, 2, 3 }, page_numbers(requests()))
    end)

    it("an empty list sends one request and yields nothing", function()
      billing_groups(0)
      local n = 0
      for _ in list {} do n = n + 1 end
      assert.are.equal(0, n)
      assert.are.equal(1, #requests())
    end)
  end)

  describe("parameters", function()
    it("keeps the caller's page[size] and extra_query on every page", function()
      local ids = billing_groups(23)
      local items = list({ page = { size = 5 } }, { extra_query = { filter = { note = "kept" } } }):collect()
      assert.are.same(ids, R.ids(items))
      local reqs = requests()
      assert.are.equal(5, #reqs)
      for n, req in ipairs(reqs) do
        assert.are.same({ ["page[number]"] = tostring(n), ["page[size]"] = "5", ["filter[note]"] = "kept" },
                        req.query_params)
      end
    end)

    it("starts at the caller's page[number], nested or as flat keys", function()
      local ids = billing_groups(23)
      local want = table.move(ids, 11, 23, 1, {})
      for _, params in ipairs({ { page = { number = 3, size = 5 } }, { ["page[number]"] = 3, ["page[size]"] = 5 } }) do
        env.m:clear_requests()
        assert.are.same(want, R.ids(list(params):collect()))
        local reqs = requests()
        assert.are.same({ 3, 4, 5 }, page_numbers(reqs))
        for _, req in ipairs(reqs) do assert.are.equal("5", req.query_params["page[size]"]) end
      end
    end)

    it("sends no page[size] when the caller gave none (the API's default)", function()
      billing_groups(3)
      list({}):collect()
      assert.are.same({ ["page[number]"] = "1" }, requests()[1].query_params)
    end)

    it("rejects a page[size] or page[number] that is not a positive integer before sending", function()
      billing_groups(3)
      -- The call's check (the spec's minimum and type) or the pager (any list) refuses them.
      for _, params in ipairs({ { page = { size = 0 } }, { page = { size = 2.5 } }, { ["page[size]"] = "7" },
                                { page = { number = 0 } } }) do
        local err = R.refused(env.m, function() return list(params):collect() end)
        assert.truthy(tostring(err):find("must be a positive integer", 1, true)
                      or tostring(err):find("billing_groups:list: page[", 1, true), tostring(err))
      end
    end)

    it("rejects a page that is not a table before sending, rather than dropping it", function()
      billing_groups(3)
      local err = R.refused(env.m, function() return list({ page = "2" }):collect() end)
      assert.truthy(tostring(err):find("page must be a table", 1, true), tostring(err))
    end)

    it("page[size]=251 is refused before sending; sent as an extra, the API's 422 surfaces", function()
      billing_groups(3)
      local err = R.refused(env.m, list, { page = { size = 251 } })
      assert.are.equal("billing_groups:list: page[size] must be at most 250, got 251", err)
      local reqs, ok
      reqs, ok, err = R.sent(env.m, function()
        for _ in list({}, { extra_query = { ["page[size]"] = 251 } }) do end
      end)
      assert.is_false(ok)
      assert.is_true(telnyx.is_error(err, "UnprocessableEntityError"), tostring(err))
      assert.are.equal(422, err.status)
      assert.are.equal("GET", err.method)
      assert.are.equal(1, #reqs)
      assert.are.equal("251", reqs[1].query_params["page[size]"])
    end)
  end)

  describe("pages() and collect()", function()
    it("pages() yields each decoded page body {data=, meta=}, lazily", function()
      local ids = billing_groups(20)
      local p = list { page = { size = 7 } }
      local iter = p:pages()
      assert.are.equal(0, #requests())
      local got, sizes = {}, {}
      for page in iter do
        assert.are.equal(#sizes + 1, page.meta.page_number)
        assert.are.equal(3, page.meta.total_pages)
        assert.are.equal(#sizes + 1, #requests())
        sizes[#sizes + 1] = #page.data
        for _, item in ipairs(page.data) do got[#got + 1] = item.id end
      end
      assert.are.same({ 7, 7, 6 }, sizes)
      assert.are.same(ids, got)
      assert.are.equal(3, #requests())
    end)

    it("pages() after some items goes on from the next item", function()
      local ids = billing_groups(20)
      local p = list { page = { size = 7 } }
      local got = { p().id, p().id }
      for page in p:pages() do
        for _, item in ipairs(page.data) do got[#got + 1] = item.id end
      end
      assert.are.same(ids, got)
      assert.are.equal(3, #requests())
    end)

    it("collect(limit) takes at most limit items and fetches no page it does not need", function()
      local ids = billing_groups(20)
      local p = list { page = { size = 7 } }
      assert.are.same({}, p:collect(0))
      assert.are.equal(0, #requests())
      assert.are.same(table.move(ids, 1, 10, 1, {}), R.ids(p:collect(10)))
      assert.are.equal(2, #requests())
      assert.are.same(table.move(ids, 11, 20, 1, {}), R.ids(p:collect()))
      assert.are.same({}, p:collect(5))
      assert.are.equal(3, #requests())
      assert.has_error(function() p:collect(-1) end)
      assert.has_error(function() p:collect(1.5) end)
    end)

    it("items() iterates the same items as the pager itself", function()
      local ids = billing_groups(9)
      local got = {}
      for item in list({ page = { size = 4 } }):items() do got[#got + 1] = item.id end
      assert.are.same(ids, got)
    end)

    it("info() and tostring tell what the pager is and how far it got", function()
      billing_groups(9)
      local p = list { page = { size = 4 } }
      local info = p:info()
      assert.are.equal("billing_groups", info.resource)
      assert.are.equal("list", info.method)
      assert.are.equal("/billing_groups", info.path)
      assert.are.equal(0, info.pages_fetched)
      assert.is_false(info.finished)
      assert.truthy(tostring(p):find("billing_groups:list, 0 pages fetched", 1, true), tostring(p))
      p()
      assert.truthy(tostring(p):find("1 page fetched", 1, true), tostring(p))
      p:collect()
      assert.are.equal(3, p:info().pages_fetched)
      assert.is_true(p:info().finished)
      p:close()
      assert.is_true(p:info().closed)
      assert.truthy(tostring(p):find("closed", 1, true), tostring(p))
    end)
  end)

  describe("closing", function()
    -- Passes list's four results through, keeping the pager (the for loop's closing value).
    local function keeping(box)
      return function(...)
        box.pager = ...
        return ...
      end
    end

    it("break inside `for item in client.x:list{}` closes the pager; using it then raises", function()
      billing_groups(20)
      local box = {}
      for _ in keeping(box)(list { page = { size = 7 } }) do break end
      assert.are.equal(1, #requests())
      assert.is_true(box.pager:info().closed)
      for _, use in ipairs({ function(p) return p() end, function(p) return p:collect() end,
                             function(p) return p:pages() end, function(p) return p:items() end }) do
        local ok, err = pcall(use, box.pager)
        assert.is_false(ok)
        assert.truthy(tostring(err):find("closed", 1, true), tostring(err))
      end
      assert.are.equal(1, #requests())
    end)

    it("break inside pager:items() and pager:pages() loops closes the pager too", function()
      billing_groups(20)
      local a, b = list {}, list {}
      for _ in a:items() do break end
      for _ in b:pages() do break end
      assert.has_error(function() a() end)
      assert.has_error(function() b() end)
    end)

    it("an error inside the loop closes the pager", function()
      billing_groups(20)
      local box = {}
      local ok = pcall(function()
        for _ in keeping(box)(list {}) do error("boom") end
      end)
      assert.is_false(ok)
      assert.is_true(box.pager:info().closed)
    end)

    it("close() is idempotent", function()
      billing_groups(3)
      local p = list {}
      p:close()
      p:close()
      assert.has_error(function() p() end)
      assert.are.equal(0, #requests())
    end)

    it("pagers are garbage-collected: in use, after break, and never used", function()
      billing_groups(20)
      local weak = setmetatable({}, { __mode = "v" })
      local function make()
        local used = list { page = { size = 7 } }
        used()
        weak[1] = used
        for _ in keeping(weak)(list {}) do break end
        weak[2] = weak.pager
        weak[3] = list {}
      end
      make()
      assert.is_not_nil(weak[1])
      collectgarbage()
      collectgarbage()
      assert.is_nil(weak[1])
      assert.is_nil(weak[2])
      assert.is_nil(weak[3])
    end)
  end)

  it("walks 100,000 records with page[size]=250 in flat memory", function()
    env.m:reset(R.MOCK_SEED)
    env.m:seed("billing_groups", 100000)
    local _, first = env.m:request("GET", "/billing_groups?page[size]=250&page[number]=1")
    local _, last = env.m:request("GET", "/billing_groups?page[size]=250&page[number]=400")
    env.m:clear_stats()
    collectgarbage()
    -- what other specs left loaded in this process (the API tables help walks) is not the walk's
    local base = collectgarbage("count")
    local samples, n, first_id, last_id = {}, 0, nil, nil
    for item in env.client.billing_groups:list { page = { size = 250 } } do
      n = n + 1
      if n == 1 then first_id = item.id end
      last_id = item.id
      -- what the walk holds (a full collection first): garbage waiting for the collector
      -- grows with the rest of this process's heap, which other specs fill
      if n % 10000 == 0 then
        collectgarbage()
        samples[#samples + 1] = collectgarbage("count") - base
      end
    end
    assert.are.equal(100000, n)
    assert.are.equal(first.data[1].id, first_id)
    assert.are.equal(last.data[250].id, last_id)
    assert.are.equal(400, env.m:stats().requests)
    local early, late, max = 0, 0, 0
    for i, kb in ipairs(samples) do
      if i <= 5 then early = math.max(early, kb) else late = math.max(late, kb) end
      max = math.max(max, kb)
    end
    local function mb(kb) return string.format("%.1f MB", kb / 1024) end
    assert.is_true(max < 20 * 1024, "memory reached " .. mb(max))
    -- the second half of the walk holds no more than the first (one page at a time)
    assert.is_true(late < early + 2048, "memory grew from " .. mb(early) .. " to " .. mb(late))
  end)

  describe("inside telnyx.map tasks", function()
    it("each task walks its own list; the results are those of a plain walk", function()
      env.m:reset(R.MOCK_SEED)
      local lists = {
        { name = "billing_groups", count = 40, size = 7 },
        { name = "access_ip_address", count = 33, size = 5 },
        { name = "addresses", count = 25, size = 4 },
        { name = "telephony_credentials", count = 18, size = 3 },
        { name = "billing_groups", count = 0, size = 250 }, -- the same list again, other pages
      }
      local want = {}
      for i, l in ipairs(lists) do
        if l.count > 0 then env.m:seed(l.name, l.count) end
        want[i] = R.ids(R.list_all(R.resource(env.client, l.name)))
      end
      env.m:latency(20)
      env.m:clear_stats()
      local ok, results, failures = pcall(telnyx.map, lists, function(l, i)
        local r = R.resource(env.client, l.name)
        local ids = {}
        if i % 2 == 1 then
          for item in r:list { page = { size = l.size } } do ids[#ids + 1] = item.id end
        else
          for page in r:list({ page = { size = l.size } }):pages() do
            for _, item in ipairs(page.data) do ids[#ids + 1] = item.id end
          end
        end
        return ids
      end, { concurrency = 5 })
      local stats = env.m:stats()
      env.m:latency(0)
      assert.is_true(ok, tostring(results))
      assert.are.same({}, failures)
      assert.are.same(want, results)
      -- the tasks' page fetches overlapped: a pager yields while its request is in flight
      assert.is_true(stats.peak_in_flight >= 2, "peak in flight " .. tostring(stats.peak_in_flight))
    end)

    it("a task that breaks out of its loop closes its pager and the others go on", function()
      local ids = billing_groups(30)
      local results, failures = telnyx.map({ 1, 2, 3 }, function(k)
        local taken = {}
        for item in env.client.billing_groups:list { page = { size = 4 } } do
          taken[#taken + 1] = item.id
          if #taken == k * 5 then break end
        end
        return taken
      end, { concurrency = 3 })
      assert.are.same({}, failures)
      for k = 1, 3 do assert.are.same(table.move(ids, 1, k * 5, 1, {}), results[k]) end
    end)
  end)
end)
