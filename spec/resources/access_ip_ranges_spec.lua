-- client.access_ip_ranges against the mock: every call, the list walk and its filters, ids.
-- Its answers are the bare object, without a data wrapper (spec/support/resources.lua).
local R = require "spec.support.resources"

R.describe_resource {
  name = "access_ip_ranges",
  methods = { "list", "create", "delete" },
  wrapped = false,
  id_param = "access_ip_range_id",
  required = { "cidr_block" },
  body = function(i) return { cidr_block = "198.51." .. i .. ".0/24", description = "range " .. i } end,
  filters = {
    R.filter.eq("filter[cidr_block]", "cidr_block"),
    R.filter.contains("filter[cidr_block][contains]", "cidr_block"),
    R.filter.startswith("filter[cidr_block][startswith]", "cidr_block"),
    R.filter.endswith("filter[cidr_block][endswith]", "cidr_block"),
    R.filter.time("filter[created_at]", "created_at"),
    R.filter.time("filter[created_at][gt]", "created_at"),
    R.filter.time("filter[created_at][gte]", "created_at"),
    R.filter.time("filter[created_at][lt]", "created_at"),
    R.filter.time("filter[created_at][lte]", "created_at"),
  },
  sorts = {},
}
