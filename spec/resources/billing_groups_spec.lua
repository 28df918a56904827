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
}
