-- client.addresses and client.addresses.actions against the mock: every call, the list walk
-- with its filters and sorts, ids (spec/support/resources.lua).
local R = require "spec.support.resources"

local FIRST = { "Zoe", "Maya", "Ines", "Bob", "Carl", "Ana" }

local function body(i)
  return {
    business_name = "Business " .. i, first_name = FIRST[(i - 1) % #FIRST + 1],
    last_name = "Last" .. (100 - i % 100), country_code = "US", locality = "Austin",
    street_address = i .. " Sample Street", postal_code = "78701",
    customer_reference = "REF-" .. i .. "-x", address_book = i % 2 == 1,
  }
end

local VALIDATE = { country_code = "us", postal_code = "78701", street_address = "600 Congress Avenue",
                   locality = "Austin", administrative_area = "tx" }

R.describe_resource {
  name = "addresses",
  methods = { "list", "create", "retrieve", "delete" },
  wrapped = true,
  id_param = "id",
  required = { "business_name", "country_code", "first_name", "last_name", "locality", "street_address" },
  body = body,
  filters = {
    R.filter.eq("filter[address_book][eq]", "address_book"),
    R.filter.contains("filter[customer_reference]", "customer_reference"), -- "contains" per the spec
    R.filter.contains("filter[customer_reference][contains]", "customer_reference"),
    R.filter.eq("filter[customer_reference][eq]", "customer_reference"),
    R.filter.contains("filter[street_address][contains]", "street_address"),
    -- no phone number uses a mock address for emergency calls
    R.filter.fixed("filter[used_as_emergency]", "false", function() return true end, "all"),
    R.filter.fixed("filter[used_as_emergency]", "true", function() return false end, "none"),
  },
  sorts = { "created_at", "first_name", "last_name", "business_name", "street_address" },
  actions = {
    { resource = "addresses.actions", method = "accept_suggestions", http = "POST",
      suffix = "/actions/accept_suggestions" },
  },
  more = function(env)
    local function new_address(i) return env.client.addresses:create(body(i)).data end

    it("actions:validate sends POST /v2/addresses/actions/validate with the body and returns {data=}", function()
      local v = env.client.addresses.actions
      local req, res = R.one(env.m, v.validate, v, VALIDATE)
      R.assert_request(req, "POST", "/v2/addresses/actions/validate")
      R.assert_equal_json(VALIDATE, R.body_of(req), "request body")
      assert.are.equal("valid", res.data.result)
      assert.are.equal(VALIDATE.country_code:upper(), res.data.suggested.country_code)
      assert.are.equal(VALIDATE.street_address, res.data.suggested.street_address)
    end)

    it("actions:validate raises before sending when a required field is missing", function()
      local v = env.client.addresses.actions
      for _, field in ipairs({ "country_code", "postal_code", "street_address" }) do
        local params = R.copy(VALIDATE)
        params[field] = nil
        local err = R.refused(env.m, v.validate, v, params)
        assert.truthy(err:find("addresses.actions:validate", 1, true), err)
        assert.truthy(err:find("'" .. field .. "'", 1, true), err)
      end
      R.refused(env.m, v.validate, v)
    end)

    it("actions:accept_suggestions(id) sends POST .../actions/accept_suggestions without a body", function()
      local a = new_address(301)
      local v = env.client.addresses.actions
      local req, res = R.one(env.m, v.accept_suggestions, v, a.id)
      R.assert_request(req, "POST", "/v2/addresses/" .. a.id .. "/actions/accept_suggestions")
      assert.are.equal("", req.body)
      assert.is_nil(req.headers["content-type"], "a bodiless POST claims a content type")
      assert.are.equal(202, req.status) -- a 202 is a success too
      assert.are.equal(a.id, res.data.id)
      assert.is_true(res.data.accepted)
    end)

    it("actions:accept_suggestions(id, params) sends the params as the body", function()
      local a = new_address(302)
      local v = env.client.addresses.actions
      local req, res = R.one(env.m, v.accept_suggestions, v, a.id, { id = a.id })
      R.assert_request(req, "POST", "/v2/addresses/" .. a.id .. "/actions/accept_suggestions")
      R.assert_equal_json({ id = a.id }, R.body_of(req), "request body")
      assert.are.equal(a.id, res.data.id)
    end)
  end,
}
