-- What the OpenAPI file cannot express: per-resource behaviour (unique fields, value checks,
-- generated fields, the access IP "pending" -> "added" transition) and filter field aliases.

local util = require "mock.util"

local NULL, parse_time, ALNUM, scalar_text =
  util.NULL, util.parse_time, util.ALNUM, util.scalar_text

local find, gsub, byte, match, gmatch =
  string.find, string.gsub, string.byte, string.match, string.gmatch

local valid_ipv4
do
  -- A part of a dotted quad: up to 255, without a leading zero.
  local function octet(p)
    return #p <= 3 and tonumber(p) <= 255 and not (#p > 1 and byte(p) == 48)
  end

  function valid_ipv4(s)
    local a, b, c, d = match(s, "^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
    return a ~= nil and octet(a) and octet(b) and octet(c) and octet(d)
  end
end

local function valid_ipv6(s)
  if not match(s, "^[%x:%.]+$") or not find(s, ":", 1, true) or find(s, ":::", 1, true) or #s > 45 then
    return false
  end
  local double = select(2, gsub(s, "::", "::"))
  if double > 1 then return false end
  local groups = 0
  for g in gmatch(s, "[^:]+") do
    if find(g, ".", 1, true) then
      if not valid_ipv4(g) then return false end
      groups = groups + 2
    elseif #g > 4 then return false
    else groups = groups + 1 end
  end
  return double == 1 and groups < 8 or groups == 8
end

local function valid_ip(s)
  return type(s) == "string" and (valid_ipv4(s) or valid_ipv6(s))
end

local function valid_cidr(s)
  if type(s) ~= "string" then return false end
  local ip, bits = match(s, "^([^/]+)/(%d+)$")
  if not ip then return false end
  bits = tonumber(bits)
  if valid_ipv4(ip) then return bits <= 32 end
  return valid_ipv6(ip) and bits <= 128
end

-- Per-resource behaviour beyond the schema:
--   unique   body field the API keeps unique (a second create answers 422)
--   checks   field -> {predicate, what the value must be}
--   requires function(body) -> name of a field the body needs beyond `required`
--   settles  "status" goes from "pending" (at creation) to "added" on the first read
--   generate property -> function(ctx) for fields the server fills in
--   defaults property -> value when the body has none and the spec gives no default
--   finish   function(rec, ctx) deriving fields after create and update
local RESOURCE_RULES = {
  access_ip_address = {
    unique = "ip_address",
    checks = {ip_address = {valid_ip, "a valid IPv4 or IPv6 address"}},
    settles = true,
    generate = {source = function() return "api" end},
  },
  integration_secrets = {
    -- The spec's field descriptions: "Required for bearer type secrets", "Required for basic".
    requires = function(body)
      if body.type == "bearer" and body.token == nil then return "token" end
      if body.type == "basic" then
        if body.username == nil then return "username" end
        if body.password == nil then return "password" end
      end
    end,
  },
  access_ip_ranges = {
    unique = "cidr_block",
    checks = {cidr_block = {valid_cidr, "a CIDR block such as 203.0.113.0/24"}},
    settles = true,
  },
  telephony_credentials = {
    finish = function(rec, ctx)
      local d, x = rec.data, rec.extra
      if x.connection_id ~= nil then d.resource_id = "connection:" .. scalar_text(x.connection_id) end
      if d.sip_username == NULL then d.sip_username = "gencred" .. ctx.rng.chars(22, ALNUM) end
      if d.sip_password == NULL then d.sip_password = ctx.rng.hex(32) end
      local expires = parse_time(d.expires_at)
      d.expired = expires ~= nil and expires <= ctx.now
      x.status = d.expired and "expired" or "active"   -- what filter[status] matches
    end,
  },
  credential_connections = {
    defaults = {active = true},
  },
  authentication_providers = {
    finish = function(rec)
      local d = rec.data
      local s = type(d.settings) == "table" and d.settings or nil
      if s and type(d.short_name) == "string" then
        s.assertion_consumer_service_url = "https://api.telnyx.com/sso/saml/auth/" .. d.short_name
        s.service_provider_entity_id = "https://api.telnyx.com/sso/saml/metadata/" .. d.short_name
        s.service_provider_login_url = "https://api.telnyx.com/sso/" .. d.short_name
      end
      if d.active == true then
        if d.activated_at == NULL then d.activated_at = d.updated_at end
      else
        d.activated_at = NULL
      end
    end,
  },
  addresses = {
    finish = function(rec)
      -- No phone number uses a mock address: filter[used_as_emergency]=false matches all.
      rec.extra.used_as_emergency = false
    end,
  },
}

-- Filter names that do not match a field of the record.
local FILTER_FIELDS = {
  ip_source = "source",
  outbound_voice_profile_id = "outbound.outbound_voice_profile_id",
}
-- Plain filters the spec describes as "containing" rather than equal.
local CONTAINS_BY_DEFAULT = {customer_reference = true}

-- Server-filled top-level properties of every record (a body cannot set them).
local GENERATED = {
  id = function(ctx) return ctx.res.int64_ids and ctx.rng.int64_id() or ctx.rng.uuid() end,
  record_type = function(ctx, ps) return ps.enum and ps.enum[1] or ps.example or ctx.res.name end,
  created_at = function(ctx) return ctx.stamp end,
  updated_at = function(ctx) return ctx.stamp end,
  user_id = function(ctx) return ctx.state.user_id end,
  organization_id = function(ctx) return ctx.state.organization_id end,
}

return {RESOURCE_RULES = RESOURCE_RULES, FILTER_FIELDS = FILTER_FIELDS,
        CONTAINS_BY_DEFAULT = CONTAINS_BY_DEFAULT, GENERATED = GENERATED}
