-- client.integration_secrets against the mock: every call, the list walk and its filter, ids.
-- delete answers 204 and returns nil (spec/support/resources.lua).
local R = require "spec.support.resources"

-- Samples alternate: odd ones bearer, even ones basic.
local function body(i)
  if i % 2 == 0 then
    return { identifier = "secret-" .. i, type = "basic", username = "user" .. i, password = "not-a-real-password" }
  end
  return { identifier = "secret-" .. i, type = "bearer", token = "not-a-real-token-" .. i }
end

-- The answers do not carry the type: samples have the one body() gave them; bulk-seeded
-- records take the enum's first value, bearer.
local function type_of(item, samples)
  for i, s in ipairs(samples) do
    if s.id == item.id then return body(i).type end
  end
  return "bearer"
end

R.describe_resource {
  name = "integration_secrets",
  methods = { "list", "create", "delete" },
  wrapped = true,
  id_param = "id",
  required = { "identifier", "type" },
  body = body,
  not_echoed = { "type", "token", "username", "password" }, -- secrets are never answered back
  delete_returns_nil = true,
  filters = {
    R.filter.fixed("filter[type]", "basic", function(item, v, samples) return type_of(item, samples) == v end),
    R.filter.fixed("filter[type]", "bearer", function(item, v, samples) return type_of(item, samples) == v end),
  },
  sorts = {},
  more = function(env)
    it("delete answers 204 with no body and returns nil", function()
      local r = env.client.integration_secrets
      local s = r:create(body(401)).data
      local reqs, ok, res = R.sent(env.m, function() return table.pack(r:delete(s.id)) end)
      assert.is_true(ok, tostring(res))
      assert.are.equal(1, #reqs)
      assert.are.equal(204, reqs[1].status)
      assert.are.equal(1, res.n)
      assert.is_nil(res[1])
    end)
  end,
}
