-- The "is this key a secret" rule is defined once, in src/log.c (log_is_secret_key): these names
-- in any case (password, sip_password, token, api_key) and any key containing "secret". Its
-- users must agree on odd keys: the request log (C), the REPL printer (telnyx.printer) and
-- what scripts print (telnyx.cli.redact, used by scripts/export.lua), the last two through
-- telnyx._is_secret_key.
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"
local printer = require "telnyx.printer"
local tcli = require "telnyx.cli"

local SECRET = { "password", "PASSWORD", "sip_password", "Sip_Password", "token", "Token",
                 "api_key", "API_KEY", "Client_Secret", "secret", "secretary", "webhook_secret_v2",
                 "xSECRETx" }
local NOT_SECRET = { "passwords", "my_password", "sip-password", "token_type", "access_token",
                     "apikey", "api-key", "apiKey", "secre", "s_e_c_r_e_t", "user_name", "" }

-- A value per key that can be searched for in output.
local function values()
  local t, n = {}, 0
  for _, list in ipairs{ SECRET, NOT_SECRET } do
    for _, k in ipairs(list) do
      n = n + 1
      t[k] = ("VAL%03dUE"):format(n)
    end
  end
  return t
end

-- The keys of `list` whose values show up in `text`.
local function shown(text, list, vals)
  local out = {}
  for _, k in ipairs(list) do
    if text:find(vals[k], 1, true) then out[#out + 1] = k end
  end
  return out
end

describe("the secret-key rule", function()
  it("telnyx._is_secret_key answers by the rule of src/log.c", function()
    for _, k in ipairs(SECRET) do assert.is_true(telnyx._is_secret_key(k), k) end
    for _, k in ipairs(NOT_SECRET) do assert.is_false(telnyx._is_secret_key(k), k) end
    for _, k in ipairs{ 1, 2.5, true, {}, "pass\0word", "secre\0t" } do
      assert.is_false(telnyx._is_secret_key(k), tostring(k))
    end
    assert.is_false(telnyx._is_secret_key())
  end)

  it("the REPL printer hides exactly the values of secret keys", function()
    local vals = values()
    local out = printer.format(vals, { width = 1000 })
    assert.are.same({}, shown(out, SECRET, vals))
    assert.are.same(NOT_SECRET, shown(out, NOT_SECRET, vals))
    assert.truthy(out:find("Client_Secret = [redacted]", 1, true), out)
  end)

  it("telnyx.cli.redact (what scripts/export.lua prints) hides exactly those, at any depth", function()
    local vals = values()
    local nested = tcli.redact({ data = { values() } })
    local flat = tcli.redact(vals)
    for _, t in ipairs{ flat, nested.data[1] } do
      for _, k in ipairs(SECRET) do assert.are.equal("[redacted]", t[k], k) end
      for _, k in ipairs(NOT_SECRET) do assert.are.equal(vals[k], t[k], k) end
    end
    assert.are.equal(telnyx.null, tcli.redact({ token = telnyx.null }).token) -- null stays null
  end)

  it("the request log hides exactly those in a JSON body", function()
    local vals = values()
    local code = [[
      local telnyx = require "telnyx"
      local c = telnyx.new { api_key = "k", base_url = os.getenv("URL"), max_retries = 0 }
      local ok = pcall(c.request, c, "POST", "/x", { body = telnyx.json.decode(os.getenv("BODY")) })
      print(ok)]]
    local r = cli.run { cli.HOST, "-e", code,
                        env = { TELNYX_LOG = "debug", BODY = telnyx.json.encode(vals),
                                URL = "http://127.0.0.1:" .. H.closed_port() .. "/v2" } }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal("false\n", r.stdout) -- nothing listens there: the body was only logged
    assert.truthy(r.stderr:find("request body", 1, true), r.stderr)
    assert.are.same({}, shown(r.stderr, SECRET, vals))
    assert.are.same(NOT_SECRET, shown(r.stderr, NOT_SECRET, vals))
  end)
end)
