-- client.telephony_credentials against the mock: every call, create_token, the list walk and
-- its filters, ids (spec/support/resources.lua).
local R = require "spec.support.resources"
local json = require("spec.support.mock").json

local EXPIRED = 4 -- this sample expired long ago

local function body(i)
  return {
    connection_id = "conn" .. i, name = "credential-" .. i, tag = "tag-" .. i,
    expires_at = i == EXPIRED and "2020-01-01T00:00:00.000Z" or "2099-01-01T00:00:00.000Z",
  }
end

R.describe_resource {
  name = "telephony_credentials",
  methods = { "list", "create", "retrieve", "update", "delete", "create_token" },
  wrapped = true,
  id_param = "id",
  required = { "connection_id" },
  body = body,
  not_echoed = { "connection_id", "tag" }, -- answered as resource_id; the tag is not answered
  update = { name = "renamed-credential", tag = "renamed-tag" },
  filters = {
    R.filter.eq("filter[name]", "name"),
    R.filter.eq("filter[resource_id]", "resource_id"),
    R.filter.eq("filter[sip_username]", "sip_username"),
    R.filter.by_body("filter[tag]", "tag", body),
    R.filter.fixed("filter[status]", "expired", function(item) return item.expired == true end),
    R.filter.fixed("filter[status]", "active", function(item) return item.expired == false end),
  },
  sorts = {},
  actions = {
    { resource = "telephony_credentials", method = "create_token", http = "POST", suffix = "/token" },
  },
  more = function(env)
    it("create answers the connection as resource_id", function()
      local cred = env.client.telephony_credentials:create(body(501)).data
      assert.are.equal("connection:conn501", cred.resource_id)
    end)

    it("create_token(id) sends POST /v2/telephony_credentials/{id}/token and returns the JWT string", function()
      local r = env.client.telephony_credentials
      local cred = r:create(body(502)).data
      local req, token = R.one(env.m, r.create_token, r, cred.id)
      R.assert_request(req, "POST", "/v2/telephony_credentials/" .. cred.id .. "/token")
      assert.are.equal("", req.body)
      assert.is_nil(req.headers["content-type"], "a bodiless POST claims a content type")
      assert.truthy(req.headers.accept:find("text/plain", 1, true))
      assert.are.equal("string", type(token))
      local parts = {}
      for part in (token .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = part end
      assert.are.equal(3, #parts, "a JWT has three parts")
      for _, part in ipairs(parts) do
        assert.is_true(#part > 0 and part:match("^[%w_-]+$") ~= nil, "a part is not base64url")
      end
      local header = json.decode(R.b64url_decode(parts[1]))
      local payload = json.decode(R.b64url_decode(parts[2]))
      assert.are.equal("JWT", header.typ)
      assert.are.equal(cred.id, payload.sub)
    end)
  end,
}
