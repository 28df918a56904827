-- Secrets never reach the output. Representative flows run as child processes against the mock
-- at every TELNYX_LOG level: a snippet that creates credentials, secrets and a token, lists
-- and retrieves them and fails in the usual ways; and the scripts of scripts/. Every byte they
-- write (stdout and stderr) is searched for distinctive secret values: the API key, a secret
-- header, credential passwords, integration secret tokens and passwords, the sip_password
-- values the API generates, and the JWT from create_token (a script may print the tokens it
-- exists to make on stdout, as provision-webrtc-user does; never in a log).
local mock = require "spec.support.mock"
local cli = require "spec.support.cli"
local H = require "spec.support.client_helpers"

local KEY = "KEY5EC12E7spec0Apikey9Zq"
local HEADER_SECRET = "HDR5EC12E7xApiKeyHeader"
local CONN_PASSWORD = "CONNpw5EC12E7a1b2c3d4"
local SECRET_TOKEN = "BEARER5EC12E7tokenx9y8"
local SECRET_PASSWORD = "BASICpw5EC12E7q7w6e5"
local LEVELS = { "off", "error", "warn", "info", "debug", "DEBUG" }

-- Names of the secrets found anywhere in what the run r wrote.
local function leaks(r, secrets, streams)
  local found = {}
  for name, value in pairs(secrets) do
    assert(type(value) == "string" and #value >= 8, "a secret too short to search for: " .. name)
    for _, stream in ipairs(streams or { "stdout", "stderr" }) do
      if r[stream]:find(value, 1, true) then found[#found + 1] = name .. " on " .. stream end
    end
  end
  table.sort(found)
  return found
end

local function env(m, level, extra)
  local e = { TELNYX_API_KEY = KEY, TELNYX_BASE_URL = m.url, TELNYX_LOG = level,
              TELNYX_CUSTOM_HEADERS = "X-Api-Key: " .. HEADER_SECRET }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

-- The sip_password of every telephony credential the mock holds (read past the client).
local function sip_passwords(m)
  local out = {}
  local status, body = m:request("GET", "/telephony_credentials?page[size]=250")
  assert.are.equal(200, status)
  for i, item in ipairs(body.data) do
    if type(item.sip_password) == "string" then out["sip_password " .. i] = item.sip_password end
  end
  return out
end

local SNIPPET = [[
local telnyx = require "telnyx"
local side = assert(io.open(arg[1], "w"))
local c = telnyx.new { max_retries = 0 }
local conn = c.credential_connections:create {
  connection_name = "secrets-spec", user_name = "secretsuser1", password = os.getenv("CONN_PW") }.data
print("connection", conn.id)
local bearer = c.integration_secrets:create {
  identifier = "spec-bearer", type = "bearer", token = os.getenv("SECRET_TOKEN") }.data
local basic = c.integration_secrets:create {
  identifier = "spec-basic", type = "basic", username = "specuser", password = os.getenv("SECRET_PW") }.data
print("secrets", bearer.id, basic.id)
local cred = c.telephony_credentials:create { connection_id = conn.id, name = "spec-cred" }.data
side:write("sip_password=", tostring(cred.sip_password), "\n")
local jwt = c.telephony_credentials:create_token(cred.id)
side:write("jwt=", jwt, "\n")
side:close()
print("token of", #jwt, "bytes")
for item in c.telephony_credentials:list { page = { size = 5 } } do print("listed", item.id) end
print("retrieved", c.telephony_credentials:retrieve(cred.id).data.id)
for s in c.integration_secrets:list() do print("secret", s.identifier) end
local ok, err = pcall(c.credential_connections.update, c.credential_connections, conn.id,
                      { password = os.getenv("CONN_PW") .. "2" })
print("update", ok, tostring(err))
local dead = telnyx.new { base_url = "http://127.0.0.1:" .. arg[2] .. "/v2", max_retries = 0 }
print("dead", tostring(select(2, pcall(dead.request, dead, "GET", "/billing_groups"))))
print("client", tostring(c), tostring(c.telephony_credentials))
error(select(2, pcall(c.telephony_credentials.retrieve, c.telephony_credentials, "no-such-id")))
]]

describe("secrets in output", function()
  local m, tmp

  setup(function()
    m = mock.start { seed = 31 }
    tmp = cli.tmpdir()
  end)
  teardown(function()
    if m then m:stop() end
    if tmp then cli.rmdir(tmp) end
  end)
  before_each(function() m:reset() end)

  local secrets = { key = KEY, header = HEADER_SECRET, connection_password = CONN_PASSWORD,
                    secret_token = SECRET_TOKEN, secret_password = SECRET_PASSWORD }
  local function all_secrets(extra)
    local out = {}
    for k, v in pairs(secrets) do out[k] = v end
    for k, v in pairs(extra) do out[k] = v end
    return out
  end

  for _, level in ipairs(LEVELS) do
    it("a client flow with TELNYX_LOG=" .. level .. " prints no secret, its errors included", function()
      local script = cli.write_file(tmp .. "/flow.lua", SNIPPET)
      m:fault { method = "PATCH", path = "/v2/credential_connections", status = 422,
                body = { errors = { { title = "Invalid value", detail = "password is too weak" } } } }
      local side = tmp .. "/side." .. level
      local r = cli.run { cli.HOST, script, side, tostring(H.closed_port()),
                          env = env(m, level, { CONN_PW = CONN_PASSWORD, SECRET_TOKEN = SECRET_TOKEN,
                                                SECRET_PW = SECRET_PASSWORD }) }
      -- the flow ran to its end: an uncaught NotFoundError, exit 1
      assert.are.equal(1, r.status, r.stderr)
      assert.matches("NotFoundError: 404 GET /v2/telephony_credentials/no%-such%-id", r.stderr)
      assert.matches("update\tfalse\tUnprocessableEntityError", r.stdout)
      assert.matches("dead\tAPIConnectionError", r.stdout)
      local sides = assert(cli.read_file(side))
      local jwt, sip = sides:match("jwt=([^\n]+)"), sides:match("sip_password=([^\n]+)")
      assert.is_true(#jwt > 20 and #sip >= 8, sides)
      assert.are.same({}, leaks(r, all_secrets { jwt = jwt, sip_password = sip }))
      if level:lower() == "debug" then
        -- the log was there to leak from: request and response bodies, redacted
        assert.matches('"password": ?"%[redacted%]"', r.stderr)
        assert.matches('"token": ?"%[redacted%]"', r.stderr)
        assert.matches('"sip_password": ?"%[redacted%]"', r.stderr)
        assert.matches("[Xx]%-[Aa]pi%-[Kk]ey: %[redacted%]", r.stderr)
        assert.matches("[Aa]uthorization: %[redacted%]", r.stderr)
        assert.matches("stack traceback", r.stderr)
      elseif level == "info" then
        assert.matches("POST /v2/telephony_credentials/[^ ]+/token %-> 201", r.stderr)
      end
    end)
  end

  for _, level in ipairs(LEVELS) do
    it("scripts with TELNYX_LOG=" .. level .. ": rotate-ip-allowlist, export, provision-webrtc-user", function()
      local list = cli.write_file(tmp .. "/allowlist", "203.0.113.7\n198.51.100.0/24\n")
      local e = env(m, level)
      local rotate = cli.run { cli.HOST, "scripts/rotate-ip-allowlist.lua", "--apply", "--json", list,
                               env = e, cwd = cli.ROOT }
      assert.are.equal(0, rotate.status, rotate.stderr)
      assert.are.same({}, leaks(rotate, secrets))

      local provision = cli.run { cli.HOST, "scripts/provision-webrtc-user.lua", "alice", "bob",
                                  env = e, cwd = cli.ROOT }
      assert.are.equal(0, provision.status, provision.stderr)
      -- the secrets the API and the script made: the connection's generated password, each
      -- credential's sip_password, and the tokens (printed on stdout, on purpose)
      local made = sip_passwords(m)
      for _, req in ipairs(H.requests(m, "/v2/credential_connections")) do
        if req.method == "POST" then made.connection_password = mock.json.decode(req.body).password end
      end
      assert.is_string(made.connection_password)
      local tokens = {}
      for user, token in provision.stdout:gmatch("(%w+)\t([^\n]+)") do tokens["token of " .. user] = token end
      assert.is_string(tokens["token of alice"])
      assert.is_string(tokens["token of bob"])
      assert.are.same({}, leaks(provision, all_secrets(made)))
      assert.are.same({}, leaks(provision, tokens, { "stderr" }))

      for _, format in ipairs { "jsonl", "csv", "json" } do
        local export = cli.run { cli.HOST, "scripts/export.lua", "telephony_credentials",
                                 "--format", format, env = e, cwd = cli.ROOT }
        assert.are.equal(0, export.status, export.stderr)
        assert.matches("alice", export.stdout)
        assert.are.same({}, leaks(export, all_secrets(made)))
        assert.are.same({}, leaks(export, tokens))
      end
    end)
  end
end)
