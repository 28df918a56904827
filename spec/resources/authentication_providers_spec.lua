-- client.authentication_providers against the mock: every call, the list walk with every sort,
-- ids (spec/support/resources.lua).
local R = require "spec.support.resources"

R.describe_resource {
  name = "authentication_providers",
  methods = { "list", "create", "retrieve", "update", "delete" },
  wrapped = true,
  id_param = "id",
  required = { "name", "settings", "short_name" },
  body = function(i)
    return {
      name = "Provider " .. string.char(string.byte("Z") - i % 26), short_name = "sso-" .. i,
      active = i % 2 == 0,
      settings = {
        idp_entity_id = "https://idp.example.com/" .. i .. "/metadata",
        idp_sso_target_url = "https://idp.example.com/" .. i .. "/sso",
        idp_cert_fingerprint = string.format("%02X:38:C7:BB", i % 256),
        idp_cert_fingerprint_algorithm = "sha256",
      },
    }
  end,
  update = { name = "Renamed provider", active = false },
  filters = {}, -- the list takes page[...] and sort only
  sorts = { "name", "-name", "short_name", "-short_name", "active", "-active", "created_at",
            "-created_at", "updated_at", "-updated_at" },
  default_sort = "-created_at", -- newest first unless told otherwise
  more = function(env)
    it("update sends nested settings as given and keeps the other settings", function()
      local r = env.client.authentication_providers
      local created = r:create {
        name = "Nested", short_name = "nested",
        settings = { idp_entity_id = "https://a.example/m", idp_sso_target_url = "https://a.example/s",
                     idp_cert_fingerprint = "AA:BB" },
      }.data
      local patch = { settings = { idp_sso_target_url = "https://b.example/s" } }
      local req, res = R.one(env.m, r.update, r, created.id, patch)
      R.assert_equal_json(patch, R.body_of(req), "request body")
      assert.are.equal("https://b.example/s", res.data.settings.idp_sso_target_url)
      assert.are.equal("https://a.example/m", res.data.settings.idp_entity_id)
    end)
  end,
}
