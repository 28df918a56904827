-- scripts/build/gen-resources.lua and the lua/telnyx/resources.lua it writes: the committed table is
-- current, spec changes show up in it, it names exactly the contract's resources and methods,
-- and odd spec shapes are skipped with a warning instead of crashing the generator.
-- Run from the repository root (busted spec/gen_resources_spec.lua).
local cjson = require "cjson"
local cli = require "spec.support.cli"

local GEN = "scripts/build/gen-resources.lua"
local SPEC = "scripts/build/telnyx-account-access.openapi.json"
local OUT = "lua/telnyx/resources.lua"
local SPEC_NAME = SPEC:match("[^/]+$")

-- The interpreter running these specs (stock lua5.4, or build/telnyx-lua under
-- run-busted.sh) also runs the generator; LUA in the environment overrides it.
local function interpreter()
  local env = os.getenv("LUA")
  if env and env ~= "" then return env end
  local a, i = rawget(_G, "arg"), -1
  if type(a) ~= "table" then return "lua5.4" end
  while a[i - 1] do i = i - 1 end
  return a[i] or "lua5.4"
end
local LUA = interpreter()

local sh, read, write = cli.quote, cli.read_file, cli.write_file

-- Runs the generator with the given arguments; returns exit code, stdout, stderr.
local function run(...)
  local r = cli.run{ LUA, GEN, ... }
  return r.status, r.stdout, r.stderr
end

-- Loads a generated file with no globals at all: it must be pure data.
local function load_table(path)
  local chunk = assert(loadfile(path, "t", {}))
  return chunk()
end

local function find_op(t, resource, method)
  for _, op in ipairs(t.operations) do
    if op.resource == resource and op.method == method then return op end
  end
  return nil
end

local function query_entry(op, name)
  for _, q in ipairs(op.query) do
    if q.name == name then return q end
  end
  return nil
end

local function field(op, name)
  for _, f in ipairs(op.body.fields) do
    if f.name == name then return f end
  end
  return nil
end

-- The contract (shared/api/LUA-API.md): resource -> methods.
local CONTRACT = {
  access_ip_address = { "create", "delete", "list", "retrieve" },
  access_ip_ranges = { "create", "delete", "list" },
  addresses = { "create", "delete", "list", "retrieve" },
  ["addresses.actions"] = { "accept_suggestions", "validate" },
  authentication_providers = { "create", "delete", "list", "retrieve", "update" },
  billing_groups = { "create", "delete", "list", "retrieve", "update" },
  integration_secrets = { "create", "delete", "list" },
  telephony_credentials = { "create", "create_token", "delete", "list", "retrieve", "update" },
  credential_connections = { "create", "delete", "list", "retrieve", "update" },
  ["credential_connections.actions"] = { "check_registration_status" },
}

-- resource.method -> HTTP method, path, path parameter, required body fields (nil: no body).
local ENDPOINTS = {
  ["access_ip_address.list"] = { "GET", "/access_ip_address" },
  ["access_ip_address.create"] = { "POST", "/access_ip_address", nil, { "ip_address" } },
  ["access_ip_address.retrieve"] = { "GET", "/access_ip_address/{access_ip_address_id}", "access_ip_address_id" },
  ["access_ip_address.delete"] = { "DELETE", "/access_ip_address/{access_ip_address_id}", "access_ip_address_id" },
  ["access_ip_ranges.list"] = { "GET", "/access_ip_ranges" },
  ["access_ip_ranges.create"] = { "POST", "/access_ip_ranges", nil, { "cidr_block" } },
  ["access_ip_ranges.delete"] = { "DELETE", "/access_ip_ranges/{access_ip_range_id}", "access_ip_range_id" },
  ["addresses.list"] = { "GET", "/addresses" },
  ["addresses.create"] = { "POST", "/addresses", nil,
    { "business_name", "country_code", "first_name", "last_name", "locality", "street_address" } },
  ["addresses.retrieve"] = { "GET", "/addresses/{id}", "id" },
  ["addresses.delete"] = { "DELETE", "/addresses/{id}", "id" },
  ["addresses.actions.validate"] = { "POST", "/addresses/actions/validate", nil,
    { "country_code", "postal_code", "street_address" } },
  ["addresses.actions.accept_suggestions"] = { "POST", "/addresses/{id}/actions/accept_suggestions", "id", {} },
  ["authentication_providers.list"] = { "GET", "/authentication_providers" },
  ["authentication_providers.create"] = { "POST", "/authentication_providers", nil, { "name", "settings", "short_name" } },
  ["authentication_providers.retrieve"] = { "GET", "/authentication_providers/{id}", "id" },
  ["authentication_providers.update"] = { "PATCH", "/authentication_providers/{id}", "id", {} },
  ["authentication_providers.delete"] = { "DELETE", "/authentication_providers/{id}", "id" },
  ["billing_groups.list"] = { "GET", "/billing_groups" },
  ["billing_groups.create"] = { "POST", "/billing_groups", nil, {} },
  ["billing_groups.retrieve"] = { "GET", "/billing_groups/{id}", "id" },
  ["billing_groups.update"] = { "PATCH", "/billing_groups/{id}", "id", {} },
  ["billing_groups.delete"] = { "DELETE", "/billing_groups/{id}", "id" },
  ["integration_secrets.list"] = { "GET", "/integration_secrets" },
  ["integration_secrets.create"] = { "POST", "/integration_secrets", nil, { "identifier", "type" } },
  ["integration_secrets.delete"] = { "DELETE", "/integration_secrets/{id}", "id" },
  ["telephony_credentials.list"] = { "GET", "/telephony_credentials" },
  ["telephony_credentials.create"] = { "POST", "/telephony_credentials", nil, { "connection_id" } },
  ["telephony_credentials.retrieve"] = { "GET", "/telephony_credentials/{id}", "id" },
  ["telephony_credentials.update"] = { "PATCH", "/telephony_credentials/{id}", "id", {} },
  ["telephony_credentials.delete"] = { "DELETE", "/telephony_credentials/{id}", "id" },
  ["telephony_credentials.create_token"] = { "POST", "/telephony_credentials/{id}/token", "id" },
  ["credential_connections.list"] = { "GET", "/credential_connections" },
  ["credential_connections.create"] = { "POST", "/credential_connections", nil,
    { "connection_name", "password", "user_name" } },
  ["credential_connections.retrieve"] = { "GET", "/credential_connections/{id}", "id" },
  ["credential_connections.update"] = { "PATCH", "/credential_connections/{id}", "id", {} },
  ["credential_connections.delete"] = { "DELETE", "/credential_connections/{id}", "id" },
  ["credential_connections.actions.check_registration_status"] =
    { "POST", "/credential_connections/{id}/actions/check_registration_status", "id" },
}

describe("gen-resources", function()
  local tmp
  setup(function() tmp = cli.tmpdir() end)
  teardown(function() if tmp then cli.rmdir(tmp) end end)

  describe("the committed lua/telnyx/resources.lua", function()
    it("is what the generator writes now (--check exits 0)", function()
      local code, out, err = run("--check")
      assert.are.equal("", err)
      assert.are.equal("", out)
      assert.are.equal(0, code)
    end)

    it("is byte for byte a fresh generation, with no warnings", function()
      local fresh = tmp .. "/fresh.lua"
      local code, _, err = run("--out", fresh)
      assert.are.equal(0, code)
      assert.are.equal("", err)
      assert.are.equal(read(OUT), read(fresh))
    end)

    it("names its source", function()
      local t = load_table(OUT)
      assert.are.same({ file = SPEC_NAME, title = "Telnyx API: account access subset", version = "2.0.0",
                        server = "https://api.telnyx.com/v2" }, t.source)
      assert.truthy(read(OUT):find("^%-%- Generated by scripts/build/gen%-resources%.lua from "
                                   .. SPEC_NAME:gsub("%p", "%%%0") .. "%. Do not edit%.\n"))
    end)
  end)

  describe("--check", function()
    local function copy_spec(edit)
      local dir = tmp .. "/" .. tostring(math.random(1e9))
      assert(os.execute("mkdir " .. sh(dir)))
      local doc = cjson.decode(read(SPEC))
      if edit then edit(doc) end
      -- same file name as the real spec, so only the edit can make a difference
      local path = dir .. "/" .. SPEC_NAME
      write(path, cjson.encode(doc))
      return path, dir
    end

    it("accepts an unchanged copy of the spec (JSON re-encoded, keys reordered)", function()
      local path = copy_spec()
      local code, _, err = run("--check", "--spec", path)
      assert.are.equal("", err)
      assert.are.equal(0, code)
    end)

    it("fails when an operation is dropped from the spec", function()
      local path, dir = copy_spec(function(doc) doc.paths["/integration_secrets/{id}"].delete = nil end)
      local code, _, err = run("--check", "--spec", path)
      assert.are.equal(1, code)
      assert.are.equal(OUT .. " is stale; run make resources\n", err)

      local out = dir .. "/resources.lua"
      assert.are.equal(0, (run("--spec", path, "--out", out)))
      local t = load_table(out)
      assert.is_nil(find_op(t, "integration_secrets", "delete"))
      assert.is_not_nil(find_op(t, "integration_secrets", "create"))
      assert.are.equal(37, #t.operations)
    end)

    it("fails when an endpoint is added, and the fresh table serves it by the naming rules", function()
      local path, dir = copy_spec(function(doc)
        local page = { name = "page", ["in"] = "query", style = "deepObject",
                       schema = { type = "object", properties = {
                         size = { type = "integer", minimum = 1, maximum = 250, default = 20 } } } }
        local list = { type = "object", properties = {
          data = { type = "array", items = { type = "object" } },
          meta = { ["$ref"] = "#/components/schemas/PaginationMeta" } } }
        doc.paths["/widget_groups"] = { get = {
          operationId = "ListWidgetGroups", parameters = { page },
          responses = { ["200"] = { description = "ok", content = { ["application/json"] = { schema = list } } } } } }
        doc.paths["/widget_groups/{widget_group_id}/actions/frobnicate"] = { post = {
          operationId = "FrobnicateWidgetGroup",
          parameters = { { name = "widget_group_id", ["in"] = "path", required = true, schema = { type = "string" } } },
          requestBody = { required = true, content = { ["application/json"] = { schema = {
            type = "object", required = { "level" }, properties = { level = { type = "integer" } } } } } },
          responses = { ["202"] = { description = "accepted" } } } }
        doc.paths["/widget_groups/{a}/widgets/{b}"] = { get = { responses = { ["200"] = { description = "ok" } } } }
      end)
      local code, _, err = run("--check", "--spec", path)
      assert.are.equal(1, code)
      assert.matches("is stale; run make resources", err, 1, true)

      local out = dir .. "/resources.lua"
      code, _, err = run("--spec", path, "--out", out)
      assert.are.equal(0, code)
      assert.are.equal("gen-resources: warning: " .. path .. "#/paths/~1widget_groups~1{a}~1widgets~1{b}/get: "
                       .. "path has 2 parameters; the client supports one; operation skipped\n", err)
      local t = load_table(out)
      local list = assert(find_op(t, "widget_groups", "list"))
      assert.are.equal("GET", list.http_method)
      assert.are.equal("/widget_groups", list.path)
      assert.is_true(list.paginated)
      assert.are.same({ name = "page[size]", type = "integer", required = false, default = 20,
                        minimum = 1, maximum = 250 }, query_entry(list, "page[size]"))
      local frob = assert(find_op(t, "widget_groups.actions", "frobnicate"))
      assert.are.equal("POST", frob.http_method)
      assert.are.equal("widget_group_id", frob.path_param)
      assert.are.same({ 202 }, frob.success)
      assert.are.equal("*/*", frob.accept)
      assert.are.same({ "level" }, frob.body.required)
      assert.are.equal(40, #t.operations)
      local names = {}
      for _, r in ipairs(t.resources) do names[#names + 1] = r.name end
      assert.are.same({ "widget_groups", "widget_groups.actions" }, { names[#names - 1], names[#names] })
    end)

    it("reports a missing output file as stale", function()
      local code, _, err = run("--check", "--out", tmp .. "/nope.lua")
      assert.are.equal(1, code)
      assert.matches("nope.lua is missing; run make resources", err, 1, true)
    end)
  end)

  describe("the table", function()
    local t
    setup(function() t = load_table(OUT) end)

    it("has exactly the contract's resources and methods", function()
      local got = {}
      for _, r in ipairs(t.resources) do got[r.name] = r.methods end
      local want = {}
      for name, methods in pairs(CONTRACT) do
        want[name] = {}
        for i, m in ipairs(methods) do want[name][i] = m end
        table.sort(want[name])
      end
      assert.are.same(want, got)
    end)

    it("lists resources sorted, and operations by resource then method, one per contract method", function()
      local names = {}
      for _, r in ipairs(t.resources) do names[#names + 1] = r.name end
      local sorted = { table.unpack(names) }
      table.sort(sorted)
      assert.are.same(sorted, names)
      assert.are.equal(38, #t.operations)
      for i = 2, #t.operations do
        local a, b = t.operations[i - 1], t.operations[i]
        assert.is_true(a.resource < b.resource or (a.resource == b.resource and a.method < b.method),
                       a.resource .. "." .. a.method .. " before " .. b.resource .. "." .. b.method)
      end
    end)

    it("gives every endpoint its HTTP method, path, path parameter and required body fields", function()
      local seen = 0
      for _, op in ipairs(t.operations) do
        local key = op.resource .. "." .. op.method
        local want = ENDPOINTS[key]
        assert.is_not_nil(want, "unexpected operation " .. key)
        seen = seen + 1
        assert.are.equal(want[1], op.http_method, key)
        assert.are.equal(want[2], op.path, key)
        assert.are.equal(want[3], op.path_param, key)
        if want[4] then
          assert.is_table(op.body, key)
          assert.are.same(want[4], op.body.required, key)
          assert.are.equal("application/json", op.body.content_type, key)
        else
          assert.is_nil(op.body, key)
        end
        assert.is_string(op.operation_id, key)
        assert.is_table(op.query, key)
      end
      assert.are.equal(38, seen)
    end)

    it("marks exactly the list methods paginated", function()
      for _, op in ipairs(t.operations) do
        assert.are.equal(op.method == "list", op.paginated, op.resource .. "." .. op.method)
      end
    end)

    it("knows the access IP endpoints answer without a data wrapper", function()
      for _, key in ipairs({ "access_ip_address.create", "access_ip_address.retrieve",
                             "access_ip_address.delete", "access_ip_ranges.create",
                             "access_ip_ranges.delete" }) do
        local op = find_op(t, key:match("^(.*)%.(.-)$"))
        assert.is_false(op.wrapped, key)
      end
      -- their lists do carry data and meta, like every other list
      assert.is_true(find_op(t, "access_ip_address", "list").wrapped)
      assert.is_true(find_op(t, "billing_groups", "create").wrapped)
      assert.is_true(find_op(t, "credential_connections.actions", "check_registration_status").wrapped)
    end)

    it("records the token as text/plain, and the 204 delete with no body", function()
      local token = find_op(t, "telephony_credentials", "create_token")
      assert.are.equal("text/plain", token.accept)
      assert.are.same({ 201 }, token.success)
      assert.is_false(token.wrapped)
      local del = find_op(t, "integration_secrets", "delete")
      assert.are.same({ 204 }, del.success)
      assert.are.equal("*/*", del.accept)
      assert.is_false(del.wrapped)
      assert.are.same({ 200, 202 }, find_op(t, "addresses.actions", "accept_suggestions").success)
      assert.are.equal("application/json", find_op(t, "billing_groups", "list").accept)
    end)

    it("tells an optional request body from a required one", function()
      assert.is_true(find_op(t, "addresses.actions", "accept_suggestions").body.optional)
      assert.is_false(find_op(t, "billing_groups", "create").body.optional)
    end)

    it("flattens deepObject query parameters to their wire names, with integers as integers", function()
      local ranges = find_op(t, "access_ip_ranges", "list")
      for _, name in ipairs({ "filter[cidr_block]", "filter[cidr_block][contains]",
                              "filter[cidr_block][startswith]", "filter[cidr_block][endswith]",
                              "filter[created_at][gt]", "page[number]", "page[size]" }) do
        assert.is_not_nil(query_entry(ranges, name), name)
      end
      assert.is_nil(query_entry(ranges, "filter"))
      local names = {}
      for _, q in ipairs(ranges.query) do names[#names + 1] = q.name end
      local sorted = { table.unpack(names) }
      table.sort(sorted)
      assert.are.same(sorted, names)

      local size = query_entry(find_op(t, "billing_groups", "list"), "page[size]")
      assert.are.same({ name = "page[size]", type = "integer", required = false, default = 20, minimum = 1,
                        maximum = 250, description = "The size of the page" }, size)
      assert.are.equal("integer", math.type(size.default))
      assert.are.equal("integer", math.type(size.maximum))

      local sort = query_entry(find_op(t, "authentication_providers", "list"), "sort")
      assert.are.equal("-created_at", sort.default)
      assert.are.same({ "name", "-name", "short_name", "-short_name", "active", "-active",
                        "created_at", "-created_at", "updated_at", "-updated_at" }, sort.enum)
      assert.is_nil(sort.description:find("%s%s"))
      assert.is_nil(sort.description:find("\n"))
      assert.are.equal(250, query_entry(find_op(t, "credential_connections", "list"), "page[size]").default)
    end)

    it("describes body fields with type, enum, example and requiredness", function()
      local create = find_op(t, "credential_connections", "create")
      local failover = field(create, "webhook_event_failover_url")
      assert.are.equal("string|null", failover.type)
      assert.are.equal("uri", failover.format)
      assert.are.equal("array<string>", field(create, "tags").type)
      assert.are.same({ "RFC 2833", "Inband", "SIP INFO" }, field(create, "dtmf_type").enum)
      assert.is_true(field(create, "user_name").required)
      assert.is_false(field(create, "active").required)
      assert.is_false(field(create, "call_cost_in_webhooks").default) -- false, not absent
      local secret = find_op(t, "integration_secrets", "create")
      assert.are.same({ name = "type", type = "string", required = true, enum = { "bearer", "basic" },
                        description = "The type of secret." }, field(secret, "type"))
      assert.are.equal("600 Congress Avenue", field(find_op(t, "addresses", "create"), "street_address").example)
    end)
  end)

  describe("as a library", function()
    local gen
    setup(function() gen = assert(loadfile(GEN))() end)

    local function response(schema, ctype)
      return { description = "ok", content = { [ctype or "application/json"] = { schema = schema } } }
    end
    local function ok(schema) return { ["200"] = response(schema) } end
    local wrapped_list = { type = "object", properties = { data = { type = "array", items = { type = "object" } },
                                                         meta = { type = "object" } } }
    local wrapped_one = { type = "object", properties = { data = { type = "object" } } }

    local function doc_with(paths, components)
      return { openapi = "3.1.0", info = { title = "t", version = "1" }, paths = paths,
               components = components or {} }
    end

    local function op_of(model, resource, method) return find_op(model, resource, method) end

    local function has_warning(warnings, text)
      for _, w in ipairs(warnings) do
        if w:find(text, 1, true) then return true end
      end
      return false
    end

    it("names sub-paths, singletons and non-paginated lists by the rules", function()
      local model, warnings = gen.build(doc_with({
        ["/widgets/{id}/token"] = { post = { responses = { ["201"] = response({ type = "string" }, "text/plain") } } },
        ["/widgets/{id}/parts"] = { get = { responses = ok({ type = "object", properties = {
          data = { type = "array", items = { type = "string" } } } }) } },
        ["/widgets/{id}/status"] = { get = { responses = ok(wrapped_one) },
                                     patch = { responses = ok(wrapped_one) },
                                     delete = { responses = { ["204"] = { description = "gone" } } } },
        ["/balance"] = { get = { responses = ok(wrapped_one) } },
        ["/events"] = { get = { responses = ok({ type = "array", items = { type = "object" } }) } },
        ["/reports/cdrs"] = { post = { responses = ok(wrapped_one) } },
        ["/TeXMLApps/{id}"] = { put = { responses = ok(wrapped_one) } },
      }), { file = "x.json" })
      assert.are.same({}, warnings)
      assert.are.equal("create_token", op_of(model, "widgets", "create_token").method)
      assert.is_false(op_of(model, "widgets", "list_parts").paginated) -- no meta
      assert.is_not_nil(op_of(model, "widgets", "retrieve_status"))
      assert.is_not_nil(op_of(model, "widgets", "update_status"))
      assert.is_not_nil(op_of(model, "widgets", "delete_status"))
      assert.are.equal("/balance", op_of(model, "balance", "retrieve").path)
      assert.is_nil(op_of(model, "balance", "retrieve").path_param)
      assert.is_false(op_of(model, "events", "list").wrapped)
      assert.is_not_nil(op_of(model, "reports.cdrs", "create"))
      assert.are.equal("PUT", op_of(model, "te_xml_apps", "update").http_method)
      -- parents come first and exist even without methods of their own
      local names = {}
      for _, r in ipairs(model.resources) do names[#names + 1] = r.name end
      assert.are.same({ "balance", "events", "reports", "reports.cdrs", "te_xml_apps", "widgets" }, names)
      assert.are.same({}, model.resources[3].methods)
    end)

    it("skips shapes it has no rule for, with a warning naming file and JSON pointer", function()
      local good = { get = { operationId = "ListThings", responses = ok(wrapped_list) } }
      local model, warnings = gen.build(doc_with({
        ["/"] = { get = { responses = ok(wrapped_one) } },
        ["/things"] = good,
        ["/things/{id}"] = { post = { responses = ok(wrapped_one) },
                             patch = { operationId = "PatchThing", responses = ok(wrapped_one) },
                             put = { operationId = "PutThing", responses = ok(wrapped_one) },
                             head = { responses = ok(wrapped_one) } },
        ["/things/{id}/parts/{part_id}"] = { get = { responses = ok(wrapped_one) } },
        ["/things/{id}.json"] = { get = { responses = ok(wrapped_one) } },
        ["/broken"] = { get = { parameters = { { ["$ref"] = "#/components/parameters/Nope" } },
                                responses = ok(wrapped_one) } },
        ["/loop"] = { post = { requestBody = { content = { ["application/json"] = {
                        schema = { ["$ref"] = "#/components/schemas/A" } } } },
                               responses = ok(wrapped_one) } },
        ["/ranged"] = { get = { responses = { ["2XX"] = response(wrapped_one) } } },
        ["/weird"] = "not a path item",
        ["/noresp"] = { get = { operationId = "NoResponses" } },
      }, { schemas = { A = { ["$ref"] = "#/components/schemas/B" }, B = { ["$ref"] = "#/components/schemas/A" } } }),
        { file = "x.json" })
      assert.is_not_nil(op_of(model, "things", "list"))
      assert.are.equal("PatchThing", op_of(model, "things", "update").operation_id)
      local expected = {
        "x.json#/paths/~1/get: path / has no literal segment",
        "x.json#/paths/~1things~1{id}/post: no naming rule for POST /things/{id}; add an override",
        "x.json#/paths/~1things~1{id}/head: no naming rule for HEAD",
        "x.json#/paths/~1things~1{id}/put: PutThing (PUT /things/{id}) would be things.update, already PatchThing",
        "x.json#/paths/~1things~1{id}~1parts~1{part_id}/get: path has 2 parameters",
        "x.json#/paths/~1things~1{id}.json/get: path segment \"{id}.json\" mixes text and a parameter",
        "x.json#/paths/~1broken/get/parameters/0: $ref #/components/parameters/Nope does not resolve",
        "x.json#/components/schemas/B: circular $ref #/components/schemas/A; operation skipped",
        "x.json#/paths/~1ranged/get/responses/2XX: status range 2XX ignored",
        "x.json#/paths/~1weird: expected an object, found string; path skipped",
        "x.json#/paths/~1noresp/get: operation has no responses; operation skipped",
      }
      for _, text in ipairs(expected) do
        assert.is_true(has_warning(warnings, text), "no warning containing: " .. text .. "\n"
                       .. table.concat(warnings, "\n"))
      end
      assert.is_false(has_warning(warnings, "generator error"), table.concat(warnings, "\n"))
      assert.are.same({}, op_of(model, "ranged", "retrieve").success)
    end)

    it("applies name overrides by operationId", function()
      local model, warnings = gen.build(doc_with({
        ["/things/{id}"] = { post = { operationId = "RefreshThing", responses = ok(wrapped_one) } },
      }), { file = "x.json", overrides = { RefreshThing = { resource = "things", method = "refresh" } } })
      assert.are.same({}, warnings)
      local op = op_of(model, "things", "refresh")
      assert.are.equal("RefreshThing", op.operation_id)
      assert.are.equal("id", op.path_param)
      assert.are.equal("POST", op.http_method)
    end)

    it("merges allOf, unions oneOf bodies, and requires only what every alternative requires", function()
      local model, warnings = gen.build(doc_with({
        ["/merged"] = { post = { requestBody = { required = true, content = { ["application/json"] = { schema = {
          allOf = { { ["$ref"] = "#/components/schemas/Base" },
                    { type = "object", required = { "extra" }, properties = { extra = { type = "boolean" } } } } } } } },
          responses = ok(wrapped_one) } },
        ["/either"] = { post = { requestBody = { content = { ["application/json"] = { schema = {
          oneOf = { { type = "object", required = { "kind", "token" },
                      properties = { kind = { const = "bearer" }, token = { type = "string" } } },
                    { type = "object", required = { "kind", "username" },
                      properties = { kind = { enum = { false, true } }, username = { type = "string" },
                                     id = { type = "string", readOnly = true } } } } } } } },
          responses = ok(wrapped_one) } },
      }, { schemas = { Base = { type = "object", required = { "name" },
                                properties = { name = { type = "string", description = "  The\n  name.  " },
                                               ids = { type = "array", items = { oneOf = {
                                                 { type = "string" }, { type = "integer" } } } },
                                               count = { type = { "integer", "null" }, minimum = 0, maximum = 1e16 },
                                               ratio = { type = "number", nullable = true, example = 0.25 } } } } }),
        { file = "x.json" })
      assert.are.same({}, warnings)
      local merged = op_of(model, "merged", "create").body
      assert.are.same({ "extra", "name" }, merged.required)
      local by = {}
      for _, f in ipairs(merged.fields) do by[f.name] = f end
      assert.are.equal("The name.", by.name.description)
      assert.are.equal("array<string|integer>", by.ids.type)
      assert.are.equal("integer|null", by.count.type)
      assert.are.equal(0, by.count.minimum)
      -- integral floats from cjson come back as integers, even where %g would print 1e+16
      local back = assert(load(gen.render(model), "=rendered", "t", {}))()
      assert.are.equal("integer", math.type(field(find_op(back, "merged", "create"), "count").maximum))
      assert.are.equal("number|null", by.ratio.type)
      assert.are.equal(0.25, by.ratio.example)
      local either = op_of(model, "either", "create").body
      assert.is_true(either.optional)
      assert.are.same({ "kind" }, either.required)
      local names = {}
      for _, f in ipairs(either.fields) do names[#names + 1] = f.name end
      assert.are.same({ "kind", "token", "username" }, names) -- readOnly id is never sent
      assert.are.equal("string", either.fields[1].type) -- the first alternative declaring kind wins
    end)

    it("flattens nested deepObject filters and stops recursive ones", function()
      local model, warnings = gen.build(doc_with({
        ["/things"] = { get = { parameters = {
          { name = "filter", ["in"] = "query", style = "deepObject", required = true, schema = {
            type = "object", required = { "a" }, properties = {
              a = { type = "object", properties = { b = { type = "object", properties = { c = { type = "integer" } } } } },
              tree = { ["$ref"] = "#/components/schemas/Tree" } } } },
          { name = "ids", ["in"] = "query", schema = { type = "array", items = { type = "string" } } },
          { name = "X-Trace", ["in"] = "header", required = true, schema = { type = "string" } },
        }, responses = ok(wrapped_list) } },
      }, { schemas = { Tree = { type = "object", properties = { sub = { ["$ref"] = "#/components/schemas/Tree" } } } } }),
        { file = "x.json" })
      local op = op_of(model, "things", "list")
      local c = query_entry(op, "filter[a][b][c]")
      assert.are.equal("integer", c.type)
      assert.is_false(c.required) -- b is not required inside a
      assert.are.equal("array<string>", query_entry(op, "ids").type)
      assert.is_true(has_warning(warnings, "nested deeper than"))
      assert.is_true(has_warning(warnings, "required header parameter \"X-Trace\""))
      assert.is_false(has_warning(warnings, "generator error"))
    end)

    it("renders data that loads back unchanged, whatever the strings hold", function()
      local model = gen.build(doc_with({
        ["/odd"] = { get = { summary = "quote \" backslash \\ tab\tend",
                             description = "line one\r\nline \"two\"\\n\n\0nul",
                             responses = ok(wrapped_one) } },
      }), { file = "x.json" })
      local text = gen.render(model)
      local back = assert(load(text, "=rendered", "t", {}))()
      local op = back.operations[1]
      assert.are.equal('quote " backslash \\ tab end', op.summary)
      assert.are.equal("line one\nline \"two\"\\n\n\0nul", op.description)
      for l in text:gmatch("[^\n]*") do
        assert.is_nil(l:find("\\$"), "a string spans lines: " .. l)
      end
      assert.are.equal(text, gen.render(back))
    end)
  end)

  describe("on malformed input", function()
    it("exits 2 naming the file for invalid JSON", function()
      local bad = tmp .. "/bad.json"
      write(bad, '{"paths": ')
      local code, _, err = run("--spec", bad, "--out", tmp .. "/o.lua")
      assert.are.equal(2, code)
      assert.matches(bad .. ": not valid JSON", err, 1, true)
    end)

    it("exits 2 naming the JSON pointer when paths is not an object", function()
      local bad = tmp .. "/nopaths.json"
      write(bad, '{"openapi": "3.1.0", "paths": [1]}')
      local code, _, err = run("--spec", bad, "--out", tmp .. "/o.lua")
      assert.are.equal(2, code)
      assert.matches(bad .. "#/paths: expected an object of paths, found array", err, 1, true)
    end)

    it("exits 2 on a bad option", function()
      local code, _, err = run("--frobnicate")
      assert.are.equal(2, code)
      assert.matches("Usage:", err, 1, true)
    end)
  end)
end)
