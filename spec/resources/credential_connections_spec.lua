-- client.credential_connections and client.credential_connections.actions against the mock:
-- every call, the list walk with its filters and sorts, ids (spec/support/resources.lua).
local R = require "spec.support.resources"

R.describe_resource {
  name = "credential_connections",
  methods = { "list", "create", "retrieve", "update", "delete" },
  wrapped = true,
  id_param = "id",
  required = { "connection_name", "password", "user_name" },
  body = function(i)
    return {
      connection_name = "conn-" .. i .. "-name", user_name = "sipuser" .. i,
      password = "not-a-real-password-" .. i, active = i % 2 == 0,
      outbound = { outbound_voice_profile_id = tostring(7000 + i) },
      tags = { "spec", "tag-" .. i },
    }
  end,
  update = { connection_name = "renamed-connection", active = false },
  filters = {
    R.filter.contains("filter[connection_name][contains]", "connection_name"),
    -- the mock's connections have no FQDN, so none matches
    R.filter.fixed("filter[fqdn]", "sip.example.com", function() return false end, "none"),
    R.filter.eq("filter[outbound_voice_profile_id]", "outbound.outbound_voice_profile_id"),
  },
  sorts = { "created_at", "connection_name", "active" },
  actions = {
    { resource = "credential_connections.actions", method = "check_registration_status", http = "POST",
      suffix = "/actions/check_registration_status" },
  },
  more = function(env)
    it("actions:check_registration_status(id) sends POST .../actions/check_registration_status", function()
      local c = env.client.credential_connections:create {
        connection_name = "reg", user_name = "reguser", password = "not-a-real-password",
      }.data
      local a = env.client.credential_connections.actions
      local req, res = R.one(env.m, a.check_registration_status, a, c.id)
      R.assert_request(req, "POST", "/v2/credential_connections/" .. c.id .. "/actions/check_registration_status")
      assert.are.equal("", req.body)
      assert.is_nil(req.headers["content-type"], "a bodiless POST claims a content type")
      assert.are.equal("registration_status", res.data.record_type)
      assert.are.equal("reguser", res.data.sip_username)
    end)
  end,
}
