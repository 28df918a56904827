-- client.billing_groups against the mock: every call, the list walk, ids (spec/support/resources.lua).
local R = require "spec.support.resources"

R.describe_resource {
  name = "billing_groups",
  methods = { "list", "create", "retrieve", "update", "delete" },
  wrapped = true,
  id_param = "id",
  required = {},
  body = function(i) return { name = "Billing group " .. i } end,
  update = { name = "Renamed billing group" },
  filters = {}, -- the list takes only page[...]
  sorts = {},
  more = function(env)
    it("create without params sends an empty JSON object (the body is not optional)", function()
      local r = env.client.billing_groups
      local req, res = R.one(env.m, r.create, r)
      R.assert_request(req, "POST", "/v2/billing_groups")
      assert.are.equal("{}", req.body)
      assert.are.equal("application/json", req.headers["content-type"])
      assert.are.equal("string", type(res.data.id))
    end)
  end,
}
