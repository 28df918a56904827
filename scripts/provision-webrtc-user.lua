#!/usr/bin/env telnyx-lua
--[[
scripts/provision-webrtc-user.lua: the WebRTC set-up flow of the Telnyx docs, for many users.

  telnyx-lua scripts/provision-webrtc-user.lua [--connection NAME] [--concurrency N] USER...

1. Ensures a credential connection named NAME (default telnyx-lua-webrtc): the oldest one
   with exactly that connection_name is used; when there is none it is created with a
   generated user_name and password (random, from /dev/urandom; never printed).
2. Ensures one telephony credential per USER on that connection: the one tagged USER
   (filter[tag]), else one named USER that no user of the run has by tag, else a new one
   created with connection_id, name = USER and tag = USER; expired credentials are not
   reused. The API never shows a credential's tag, so the tag is trusted as filtered; a
   credential is never given to two users of a run, and the ones this script creates
   carry name and tag alike, so they cannot be taken by another user later either.
3. Mints an access token (JWT) for each credential and prints `USER<TAB>TOKEN` lines on
   stdout, in the order the users were given (each user once).

Running it again reuses the connection and the credentials (only new tokens are minted).
Users are processed concurrently (--concurrency at a time, default 8); a failure for one
user does not stop the others. The tokens are what this script is for, so they are printed;
nothing else secret is.

Exit status: 0 every user done, 1 some user failed or the run was interrupted (the users
done are still printed), 2 bad usage. Environment: TELNYX_API_KEY (required),
TELNYX_BASE_URL, TELNYX_LOG.
]]

local telnyx = require "telnyx"
local cli = require "telnyx.cli"

local NAME = "provision-webrtc-user.lua"
local DEFAULT_CONNECTION = "telnyx-lua-webrtc"
local PAGE_SIZE = 250
local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

-- n random letters and digits from /dev/urandom, without modulo bias (bytes >= 248 are
-- dropped: 248 is the largest multiple of 62 below 256).
local function random_alnum(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local out = {}
  while #out < n do
    for b in f:read(n * 2):gmatch(".") do
      local v = b:byte()
      if v < 248 and #out < n then
        local k = v % #ALNUM + 1
        out[#out + 1] = ALNUM:sub(k, k)
      end
    end
  end
  f:close()
  return table.concat(out)
end

local function is_blank(v) return v == nil or v == telnyx.null or v == "" end

---------------------------------------------------------------------------
-- The credential connection
---------------------------------------------------------------------------

-- The oldest credential connection named exactly `name`, or nil.
local function find_connection(client, name)
  local params = { page = { size = PAGE_SIZE }, sort = "created_at" }
  -- The API's only name filter is a case-insensitive "contains" of at least 3 characters.
  if #name >= 3 then params.filter = { connection_name = { contains = name } } end
  local found, count = nil, 0
  for conn in client.credential_connections:list(params) do
    if conn.connection_name == name then
      count = count + 1
      found = found or conn
    end
  end
  if count > 1 then
    cli.warn("%d credential connections are named '%s'; using the oldest (%s)", count, name, found.id)
  end
  return found
end

local function ensure_connection(client, name)
  local conn = find_connection(client, name)
  if conn then return conn, false end
  -- user_name: 4-32 letters and digits; password: 8-128 characters (the API's rules).
  local created = client.credential_connections:create{
    connection_name = name, user_name = "telnyxlua" .. random_alnum(20), password = random_alnum(32),
  }
  return created.data, true
end

---------------------------------------------------------------------------
-- Credentials and tokens
---------------------------------------------------------------------------

-- The first usable credential of the connection that the API's filter finds and `accept`
-- takes (not expired, on this connection).
local function first_credential(client, resource_id, filter, accept)
  filter.resource_id = resource_id
  for cred in client.telephony_credentials:list{ filter = filter, page = { size = PAGE_SIZE } } do
    if cred.resource_id == resource_id and cred.expired ~= true and accept(cred) then return cred end
  end
  return nil
end

-- The API takes a tag but never shows it (a credential's JSON has no `tag`), so a
-- credential found by filter[tag] is taken on the filter's word, and one found by name
-- could carry another user's tag. Hence two passes: first every user's tagged credential,
-- then, for the users without one, an untagged-looking credential named after them that no
-- user of this run got by tag; else a new one tagged and named after the user.
local function find_tagged(client, resource_id, user)
  return first_credential(client, resource_id, { tag = user }, function(c)
    return c.tag == nil or c.tag == user
  end)
end

local function find_named(client, resource_id, user, claimed)
  return first_credential(client, resource_id, { name = user }, function(c)
    return c.name == user and is_blank(c.tag) and not claimed[c.id]
  end)
end

-- A token for every user: results[i] is the JWT of users[i]; failures as telnyx.map's.
-- run.minting is set once the tokens are being made (the second pass).
local function provision_all(run, client, conn_id, users, concurrency)
  local resource_id = "connection:" .. conn_id
  local opts = { concurrency = concurrency, progress = true }
  local tagged, tag_failures = telnyx.map(users, function(user)
    return find_tagged(client, resource_id, user) or false
  end, opts)
  local claimed, failed = {}, {}
  for _, cred in pairs(tagged) do
    if cred then claimed[cred.id] = true end
  end
  for _, f in ipairs(tag_failures) do failed[f.index] = f.error end
  run.minting = true
  return telnyx.map(users, function(user, i)
    if failed[i] ~= nil then error(failed[i], 0) end -- one failure list for both passes
    local cred = tagged[i] or find_named(client, resource_id, user, claimed)
      or client.telephony_credentials:create{ connection_id = conn_id, name = user, tag = user }.data
    local token = client.telephony_credentials:create_token(cred.id)
    if type(token) ~= "string" or not token:match("^[%w_-]+%.[%w_-]+%.[%w_-]*$") then
      error("the API answered with something that is not a JWT for credential " .. tostring(cred.id), 0)
    end
    return token
  end, opts)
end

---------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------

local function parse_args(argv)
  local parser = cli.parser(NAME,
    "Provision WebRTC users: a credential connection, one telephony credential per user, " ..
    "and an access token (JWT) for each, printed as USER<TAB>TOKEN lines.",
    "Running it again reuses the connection and the credentials.\n" ..
    "Exit status: 0 every user done, 1 some user failed or interrupted, 2 bad usage.\n" ..
    "Environment: TELNYX_API_KEY (required), TELNYX_BASE_URL.")
  parser:argument("users", "User names (the credential's tag and name)."):argname("USER"):args("+")
  parser:option("--connection", "Name of the credential connection.", DEFAULT_CONNECTION)
    :argname("NAME")
  parser:option("--concurrency", "Users processed at once (1-256).", "8")
    :argname("N"):convert(cli.concurrency)
  return parser:parse(argv)
end

-- The users in order, each once; a name that is empty or holds control characters (it
-- would break the USER<TAB>TOKEN lines) is a usage error.
local function check_users(names)
  local users, seen = {}, {}
  for _, user in ipairs(names) do
    if user == "" or user:find("%c") then
      cli.usage_error("bad user name %q: it must be non-empty, without tabs, newlines or " ..
                      "other control characters", user)
    end
    if not seen[user] then
      seen[user] = true
      users[#users + 1] = user
    end
  end
  return users
end

local function main(argv)
  local args = parse_args(argv)
  local users = check_users(args.users)
  if args.connection == "" then cli.usage_error("--connection must not be empty") end
  local client = cli.client()
  local conn, created = ensure_connection(client, args.connection)
  if created then cli.warn("created credential connection '%s' (%s)", args.connection, conn.id) end
  local run = {}
  local ok, results, failures = pcall(provision_all, run, client, conn.id, users, args.concurrency)
  if not ok then
    if not cli.is_interrupt(results) then error(results, 0) end
    -- Ctrl-C: print the tokens made (telnyx.map's InterruptedError carries them once the
    -- second pass runs); name the users that got none.
    local err = results
    results, failures = run.minting and type(err) == "table" and err.results or {}, {}
    for i, user in ipairs(users) do
      if results[i] == nil then failures[#failures + 1] = { item = user, error = "interrupted" } end
    end
  end
  for i, user in ipairs(users) do
    if results[i] ~= nil then cli.out(user, "\t", results[i], "\n") end
  end
  for _, f in ipairs(failures) do cli.warn("%s: %s", f.item, cli.error_text(f.error)) end
  if #failures > 0 then
    cli.warn("%d of %d users not provisioned; run again for them", #failures, #users)
    return cli.EXIT_FAILED
  end
  return cli.EXIT_OK
end

cli.main(NAME, main)
