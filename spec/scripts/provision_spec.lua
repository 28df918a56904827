-- scripts/provision-webrtc-user.lua run as a real process against the mock API: what it
-- creates the first time, that a second run creates nothing, that no credential is shared
-- between users, that one user's failure leaves the others done, and that no secret other
-- than the tokens it exists to print shows up.
local telnyx = require "telnyx"
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local scripts = require "spec.support.scripts"

local SCRIPT = cli.ROOT .. "/scripts/provision-webrtc-user.lua"
local API_KEY = "spec-key-provision-3d8e41" -- must never show up in any output
local CONNECTIONS, CREDENTIALS = "/v2/credential_connections", "/v2/telephony_credentials"

local B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function base64url_decode(s)
  local bits, out = {}, {}
  for ch in s:gmatch(".") do
    local v = assert(B64URL:find(ch, 1, true), "not base64url: " .. ch) - 1
    for b = 5, 0, -1 do bits[#bits + 1] = (v >> b) & 1 end
  end
  for i = 1, #bits - 7, 8 do
    local byte = 0
    for j = i, i + 7 do byte = byte << 1 | bits[j] end
    out[#out + 1] = string.char(byte)
  end
  return table.concat(out)
end

-- A JWT: three base64url parts, the first two JSON objects. Returns header and payload.
local function assert_jwt(token)
  local h, p, sig = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
  assert.is_truthy(h, "not JWT-shaped: " .. token)
  assert.is_true(#sig > 0)
  local header, payload = telnyx.json.decode(base64url_decode(h)), telnyx.json.decode(base64url_decode(p))
  assert.is_string(header.alg)
  return header, payload
end

describe("scripts/provision-webrtc-user.lua", function()
  local m

  setup(function() m = mock.start{ seed = 23 } end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  local function provision(args, env)
    return scripts.run{ script = SCRIPT, key = API_KEY, url = m.url, args = args, env = env }
  end

  -- stdout's USER<TAB>TOKEN lines: the users in order, and the token of each.
  local function tokens_of(r)
    local users, tokens = {}, {}
    for _, line in ipairs(cli.lines(r.stdout)) do
      local user, token = line:match("^([^\t]+)\t([^\t]+)$")
      assert.is_truthy(user, "not USER<TAB>TOKEN: " .. line)
      users[#users + 1] = user
      tokens[user] = token
    end
    return users, tokens
  end

  local function requests(method, path)
    local out = {}
    for _, r in ipairs(m:requests()) do
      if r.method == method and r.path == path then out[#out + 1] = r end
    end
    return out
  end

  -- credential id -> user, from the token requests (POST /v2/telephony_credentials/ID/token)
  -- and the tokens' subjects, which must agree.
  local function credential_of(tokens)
    local out = {}
    for user, token in pairs(tokens) do
      local _, payload = assert_jwt(token)
      out[user] = payload.sub
    end
    return out
  end

  local function create(path, body)
    local status, answer = m:request("POST", path:sub(4), { body = body })
    assert.are.equal(201, status)
    return answer.data
  end

  describe("command line", function()
    it("--help exits 0", function()
      local r = provision{ "--help" }
      assert.are.equal(0, r.status)
      assert.matches("Usage: provision%-webrtc%-user%.lua", r.stdout)
      assert.matches("%-%-connection", r.stdout)
    end)

    local usage_cases = {
      { "no USER", {} },
      { "an empty user name", { "alice", "" } },
      { "a user name with a tab", { "al\tice" } },
      { "an unknown option", { "--nope", "alice" } },
      { "--concurrency 0", { "--concurrency", "0", "alice" } },
      { "an empty --connection", { "--connection", "", "alice" } },
    }
    for _, case in ipairs(usage_cases) do
      it("exits 2 on " .. case[1] .. ", sending nothing", function()
        local r = provision(case[2])
        assert.are.equal(2, r.status, r.stderr)
        assert.are.equal("", r.stdout)
        assert.are.equal(0, #m:requests())
      end)
    end

    it("exits 2 without TELNYX_API_KEY", function()
      local r = provision({ "alice" }, { TELNYX_API_KEY = false })
      assert.are.equal(2, r.status)
      assert.matches("TELNYX_API_KEY", r.stderr)
      assert.are.equal(0, #m:requests())
    end)
  end)

  it("creates a connection, one credential per user and prints a JWT each; a rerun reuses all", function()
    local r = provision{ "alice", "bob", "carol", "alice" }
    assert.are.equal(0, r.status, r.stderr)
    local users, tokens = tokens_of(r)
    assert.are.same({ "alice", "bob", "carol" }, users)

    local conns = requests("POST", CONNECTIONS)
    assert.are.equal(1, #conns)
    local body = telnyx.json.decode(conns[1].body)
    assert.are.equal("telnyx-lua-webrtc", body.connection_name)
    assert.matches("^%w+$", body.user_name)
    assert.is_true(#body.user_name >= 4 and #body.user_name <= 32)
    assert.is_true(#body.password >= 8 and #body.password <= 128)
    assert.is_nil(r.stdout:find(body.password, 1, true), "the connection's password leaked")
    assert.is_nil(r.stderr:find(body.password, 1, true), "the connection's password leaked")
    local _, listed = m:request("GET", "/credential_connections")
    assert.are.equal(1, #listed.data)
    local conn_id = listed.data[1].id

    local creds = requests("POST", CREDENTIALS)
    assert.are.equal(3, #creds)
    local tagged = {}
    for _, req in ipairs(creds) do
      local b = telnyx.json.decode(req.body)
      assert.are.equal(conn_id, b.connection_id)
      assert.are.equal(b.name, b.tag)
      tagged[#tagged + 1] = b.tag
    end
    table.sort(tagged)
    assert.are.same({ "alice", "bob", "carol" }, tagged)
    local first = credential_of(tokens)
    assert.are_not.equal(first.alice, first.bob)
    assert.are_not.equal(first.bob, first.carol)

    m:clear_requests()
    r = provision{ "carol", "alice", "bob" }
    assert.are.equal(0, r.status, r.stderr)
    users, tokens = tokens_of(r)
    assert.are.same({ "carol", "alice", "bob" }, users)
    assert.are.equal(0, #requests("POST", CONNECTIONS))
    assert.are.equal(0, #requests("POST", CREDENTIALS))
    assert.are.same(first, credential_of(tokens)) -- the same credential for each user
    for user, id in pairs(first) do
      assert.are.equal(1, #requests("POST", CREDENTIALS .. "/" .. id .. "/token"), user)
    end
  end)

  it("uses an existing connection named by --connection, and credentials found by name", function()
    local conn = create(CONNECTIONS, { connection_name = "office-webrtc", user_name = "officeuser1",
                                       password = "spec-secret-pw-5521" })
    create(CONNECTIONS, { connection_name = "office-webrtc-2", user_name = "officeuser2",
                          password = "spec-secret-pw-5522" })
    local named = create(CREDENTIALS, { connection_id = conn.id, name = "dave" }) -- untagged
    m:clear_requests()
    local r = provision{ "--connection", "office-webrtc", "dave", "erin" }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal(0, #requests("POST", CONNECTIONS))
    local _, tokens = tokens_of(r)
    local ids = credential_of(tokens)
    assert.are.equal(named.id, ids.dave)
    local creds = requests("POST", CREDENTIALS)
    assert.are.equal(1, #creds) -- erin's
    local b = telnyx.json.decode(creds[1].body)
    assert.are.same({ conn.id, "erin", "erin" }, { b.connection_id, b.name, b.tag })
  end)

  it("never gives one user a credential tagged for another", function()
    local conn = create(CONNECTIONS, { connection_name = "shared-test", user_name = "shareduser1",
                                       password = "spec-secret-pw-6631" })
    -- Named after bob but tagged for alice: alice's, so bob must get one of his own.
    local cred = create(CREDENTIALS, { connection_id = conn.id, name = "bob", tag = "alice" })
    m:clear_requests()
    local r = provision{ "--connection", "shared-test", "alice", "bob" }
    assert.are.equal(0, r.status, r.stderr)
    local _, tokens = tokens_of(r)
    local ids = credential_of(tokens)
    assert.are.equal(cred.id, ids.alice)
    assert.are_not.equal(cred.id, ids.bob)
    assert.are.equal(1, #requests("POST", CREDENTIALS))
  end)

  it("goes on with the other users when one fails, exits 1, and a rerun completes", function()
    -- One user at a time, so the first credential created is alice's.
    m:fault{ method = "POST", path = "^/v2/telephony_credentials$", status = 400, count = 1,
             body = { errors = { { code = "10015", title = "Bad request", detail = "refused by spec" } } } }
    local r = provision{ "--concurrency", "1", "alice", "bob", "carol" }
    assert.are.equal(1, r.status)
    local users = tokens_of(r)
    assert.are.same({ "bob", "carol" }, users)
    assert.matches("alice: .*refused by spec", r.stderr)

    m:clear_requests()
    r = provision{ "alice", "bob", "carol" }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.same({ "alice", "bob", "carol" }, (tokens_of(r)))
    assert.are.equal(1, #requests("POST", CREDENTIALS)) -- alice's only
  end)
end)
