-- scripts/export.lua run as a real process against the mock API: every format parsed back
-- and compared with what the API holds, CSV quoting, filters and sorts as the mock received
-- them, secrets redacted, and usage errors.
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local scripts = require "spec.support.scripts"

local SCRIPT = cli.ROOT .. "/scripts/export.lua"
local API_KEY = "spec-key-export-0b72aa" -- must never show up in any output

-- RFC 4180 records of a CSV text (quoted fields may hold commas, quotes and line breaks).
local function parse_csv(text)
  local rows, row, i = {}, {}, 1
  while i <= #text do
    local field
    if text:sub(i, i) == '"' then
      local parts = {}
      i = i + 1
      while true do
        local q = assert(text:find('"', i, true), "unterminated quoted field")
        parts[#parts + 1] = text:sub(i, q - 1)
        if text:sub(q + 1, q + 1) == '"' then
          parts[#parts + 1] = '"'
          i = q + 2
        else
          i = q + 1
          break
        end
      end
      field = table.concat(parts)
    else
      local stop = text:find('[,\r\n]', i) or (#text + 1)
      field = text:sub(i, stop - 1)
      i = stop
    end
    row[#row + 1] = field
    local sep = text:sub(i, i)
    if sep == "," then
      i = i + 1
    else
      assert(sep == "\r" and text:sub(i + 1, i + 1) == "\n", "records must end with CRLF at " .. i)
      rows[#rows + 1] = row
      row = {}
      i = i + 2
    end
  end
  return rows
end

describe("scripts/export.lua", function()
  local m

  setup(function() m = mock.start{ seed = 22 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  local function export(args, env)
    return scripts.run{ script = SCRIPT, key = API_KEY, url = m.url, args = args, env = env }
  end

  -- Every item of a resource as the API lists it, in order (one page of 250).
  local function api_items(resource)
    local status, body = m:request("GET", "/" .. resource .. "?page[size]=250")
    assert.are.equal(200, status)
    return body.data
  end

  local function ids(items)
    local out = {}
    for i, item in ipairs(items) do out[i] = item.id end
    return out
  end

  -- The list requests the mock saw for a resource.
  local function list_requests(resource)
    local out = {}
    for _, r in ipairs(m:requests()) do
      if r.method == "GET" and r.path == "/v2/" .. resource then out[#out + 1] = r end
    end
    return out
  end

  local function create_billing_group(name)
    local status, body = m:request("POST", "/billing_groups", { body = { name = name } })
    assert.is_true(status >= 200 and status < 300, "status " .. status)
    return body.data
  end

  describe("command line", function()
    it("--help exits 0 and lists the resources", function()
      local r = export{ "--help" }
      assert.are.equal(0, r.status)
      assert.matches("Usage: export%.lua", r.stdout)
      assert.matches("telephony_credentials", r.stdout, 1, true)
    end)

    it("exits 2 on an unknown resource, listing the valid ones", function()
      local r = export{ "no_such_things" }
      assert.are.equal(2, r.status)
      assert.are.equal("", r.stdout)
      assert.matches("no_such_things", r.stderr, 1, true)
      for _, name in ipairs{ "access_ip_address", "access_ip_ranges", "billing_groups", "credential_connections" } do
        assert.matches(name, r.stderr, 1, true)
      end
      -- a resource without a list operation is not exportable either
      assert.are.equal(2, export{ "addresses.actions" }.status)
    end)

    local usage_cases = {
      { "no RESOURCE", {} },
      { "an unknown format", { "billing_groups", "--format", "xml" } },
      { "a filter without '='", { "access_ip_address", "--filter", "ip_address" } },
      { "a filter the resource does not take", { "access_ip_address", "--filter", "colour=red" } },
      { "a filter value outside its enum", { "integration_secrets", "--filter", "type=magic" } },
      { "--sort on a resource without sorts", { "billing_groups", "--sort", "name" } },
      { "a sort outside the API's list", { "credential_connections", "--sort", "colour" } },
      { "--page-size 0", { "billing_groups", "--page-size", "0" } },
      { "--page-size above the API's maximum", { "billing_groups", "--page-size", "251" } },
      { "an unknown option", { "billing_groups", "--nope" } },
    }
    for _, case in ipairs(usage_cases) do
      it("exits 2 on " .. case[1], function()
        local r = export(case[2])
        assert.are.equal(2, r.status, r.stderr)
        assert.are.equal("", r.stdout)
        assert.matches("export%.lua", r.stderr)
        assert.are.equal(0, #m:requests())
      end)
    end

    it("exits 2 without TELNYX_API_KEY, before any request", function()
      local r = export({ "billing_groups" }, { TELNYX_API_KEY = false })
      assert.are.equal(2, r.status)
      assert.matches("TELNYX_API_KEY", r.stderr)
      assert.are.equal(0, #m:requests())
    end)
  end)

  describe("formats", function()
    before_each(function() m:seed("billing_groups", 7) end)

    it("jsonl (the default): one object a line, every page walked", function()
      local r = export{ "billing_groups", "--page-size", "3" }
      assert.are.equal(0, r.status, r.stderr)
      local lines = cli.lines(r.stdout)
      assert.are.equal(7, #lines)
      local items = {}
      for i, line in ipairs(lines) do items[i] = telnyx.json.decode(line) end
      local want = api_items("billing_groups")
      assert.are.same(ids(want), ids(items))
      assert.are.same(want[4].name, items[4].name)
      local reqs = list_requests("billing_groups")
      assert.are.equal(4, #reqs) -- 3 pages for the export, 1 for api_items
      for i = 1, 3 do
        assert.are.equal("3", reqs[i].query_params["page[size]"])
        assert.are.equal(tostring(i), reqs[i].query_params["page[number]"])
      end
    end)

    it("json: one array, the same items", function()
      local r = export{ "billing_groups", "--format", "json", "--page-size", "2" }
      assert.are.equal(0, r.status, r.stderr)
      local items = telnyx.json.decode(r.stdout)
      assert.are.same(ids(api_items("billing_groups")), ids(items))
    end)

    it("json: [] when there are no items; jsonl and csv print nothing", function()
      local r = export{ "access_ip_ranges", "--format", "json" }
      assert.are.equal(0, r.status, r.stderr)
      assert.are.equal("[]\n", r.stdout)
      assert.are.equal("", export{ "access_ip_ranges" }.stdout)
      assert.are.equal("", export{ "access_ip_ranges", "--format", "csv" }.stdout)
    end)

    it("csv: header of the first page's fields (id first), RFC 4180 quoting", function()
      local tricky = { 'comma, inside', 'a "quoted" word', "two\nlines", " padded ", "plain" }
      for _, name in ipairs(tricky) do create_billing_group(name) end
      local r = export{ "billing_groups", "--format", "csv", "--page-size", "4" }
      assert.are.equal(0, r.status, r.stderr)
      assert.matches('"a ""quoted"" word"', r.stdout, 1, true)
      local rows = parse_csv(r.stdout)
      local header = rows[1]
      -- the fields of the API's items, id first, then in alphabetical order
      local fields = {}
      for k in pairs(api_items("billing_groups")[1]) do fields[#fields + 1] = k end
      table.sort(fields, function(a, b)
        if (a == "id") ~= (b == "id") then return a == "id" end
        return a < b
      end)
      assert.are.same(fields, header)
      local col = {}
      for i, name in ipairs(header) do col[name] = i end
      local want = api_items("billing_groups")
      assert.are.equal(#want + 1, #rows)
      for i, item in ipairs(want) do
        assert.are.equal(item.id, rows[i + 1][col.id])
        assert.are.equal(item.name, rows[i + 1][col.name])
      end
    end)

    it("csv: nested values as JSON, null as empty, booleans as words; secrets redacted", function()
      local status, created = m:request("POST", "/credential_connections", { body = {
        connection_name = "csv-nested", user_name = "csvnested1", password = "spec-secret-pw-91f2",
        tags = { "a", "b" },
      } })
      assert.are.equal(201, status)
      local r = export{ "credential_connections", "--format", "csv" }
      assert.are.equal(0, r.status, r.stderr)
      assert.is_nil(r.stdout:find("spec-secret-pw-91f2", 1, true), "the password leaked")
      local rows = parse_csv(r.stdout)
      local col = {}
      for i, name in ipairs(rows[1]) do col[name] = i end
      local row = rows[2]
      assert.are.equal(created.data.id, row[col.id])
      assert.are.same({ "a", "b" }, telnyx.json.decode(row[col.tags]))
      assert.are.same(created.data.inbound.codecs, telnyx.json.decode(row[col.inbound]).codecs)
      assert.are.equal(tostring(created.data.active), row[col.active])
      assert.are.equal("", row[col.webhook_event_url] or "")
      assert.are.equal("[redacted]", row[col.password])
    end)

    it("a null field: a column of empty cells in csv, null in json and jsonl", function()
      create_billing_group("null-field")
      local r = export{ "billing_groups", "--format", "csv" }
      assert.are.equal(0, r.status, r.stderr)
      local rows = parse_csv(r.stdout)
      local col = {}
      for i, name in ipairs(rows[1]) do col[name] = i end
      assert.is_not_nil(col.deleted_at, "a field null in every item still has its column")
      for i = 2, #rows do assert.are.equal("", rows[i][col.deleted_at]) end
      for _, format in ipairs{ "json", "jsonl" } do
        r = export{ "billing_groups", "--format", format }
        assert.are.equal(0, r.status, r.stderr)
        assert.matches('"deleted_at":null', r.stdout, 1, true)
      end
    end)

    it("jsonl: secrets redacted at any depth", function()
      local status = m:request("POST", "/credential_connections", { body = {
        connection_name = "jsonl-secret", user_name = "jsonlsecret1", password = "spec-secret-pw-77ab",
      } })
      assert.are.equal(201, status)
      local r = export{ "credential_connections" }
      assert.are.equal(0, r.status, r.stderr)
      assert.is_nil(r.stdout:find("spec-secret-pw-77ab", 1, true), "the password leaked")
      assert.are.equal("[redacted]", telnyx.json.decode(cli.lines(r.stdout)[1]).password)
    end)
  end)

  describe("query", function()
    before_each(function() m:seed("access_ip_address", 5) end)

    for _, form in ipairs{ "ip_address=%s", "filter[ip_address]=%s" } do
      it("passes --filter " .. form:format("IP") .. " to the API", function()
        local target = api_items("access_ip_address")[3]
        m:clear_requests()
        local r = export{ "access_ip_address", "--filter", form:format(target.ip_address) }
        assert.are.equal(0, r.status, r.stderr)
        local lines = cli.lines(r.stdout)
        assert.are.equal(1, #lines)
        assert.are.equal(target.id, telnyx.json.decode(lines[1]).id)
        local reqs = list_requests("access_ip_address")
        assert.are.equal(1, #reqs)
        assert.are.equal(target.ip_address, reqs[1].query_params["filter[ip_address]"])
      end)
    end

    it("passes operator filters and --sort", function()
      local r = export{ "credential_connections", "--filter", "connection_name[contains]=abc",
                        "--sort=-connection_name", "--page-size", "10" }
      assert.are.equal(0, r.status, r.stderr)
      local q = list_requests("credential_connections")[1].query_params
      assert.are.equal("abc", q["filter[connection_name][contains]"])
      assert.are.equal("-connection_name", q.sort)
      assert.are.equal("10", q["page[size]"])
    end)

    it("exits 1 with the API's error when a page fails", function()
      m:fault{ method = "GET", path = "/v2/access_ip_address", status = 403, skip = 1, count = 1 }
      local r = export{ "access_ip_address", "--page-size", "2" }
      assert.are.equal(1, r.status)
      assert.are.equal(2, #cli.lines(r.stdout)) -- the first page was written
      assert.matches("PermissionDeniedError", r.stderr, 1, true)
    end)
  end)
end)
