-- client.access_ip_address against the mock: every call, the list walk and its filters, ids.
-- Its answers are the bare object, without a data wrapper (spec/support/resources.lua).
local R = require "spec.support.resources"

R.describe_resource {
  name = "access_ip_address",
  methods = { "list", "create", "retrieve", "delete" },
  wrapped = false,
  id_param = "access_ip_address_id",
  required = { "ip_address" },
  body = function(i) return { ip_address = "203.0.113." .. i, description = "office " .. i } end,
  filters = {
    R.filter.eq("filter[ip_address]", "ip_address"),
    R.filter.eq("filter[ip_source]", "source", "all"), -- every entry made through the API
    R.filter.fixed("filter[ip_source]", "dashboard", function(item, v) return item.source == v end, "none"),
    R.filter.time("filter[created_at]", "created_at"),
    R.filter.time("filter[created_at][gt]", "created_at"),
    R.filter.time("filter[created_at][gte]", "created_at"),
    R.filter.time("filter[created_at][lt]", "created_at"),
    R.filter.time("filter[created_at][lte]", "created_at"),
  },
  sorts = {},
  more = function(env)
    it("create answers the entry as pending; reading it back shows it added", function()
      local r = env.client.access_ip_address
      local created = r:create { ip_address = "2001:db8::7" }
      assert.are.equal("2001:db8::7", created.ip_address)
      assert.are.equal("pending", created.status)
      local read = r:retrieve(created.id)
      assert.are.equal(created.id, read.id)
      assert.are.equal("added", read.status)
    end)
  end,
}
