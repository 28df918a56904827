-- A second short tour, of messaging profiles, against a Telnyx API (the local mock in
-- `make demo`): created, listed, retrieved, updated and deleted, plus a check made before
-- sending. Reads TELNYX_API_KEY and TELNYX_BASE_URL like every script; refuses to run against
-- the real API by accident.

require "telnyx" -- registers the embedded modules, telnyx.cli among them
local cli = require "telnyx.cli"

local NAME = "demo-messaging.lua"

local function main(argv)
  local description = "A tour of messaging profiles with telnyx-lua against a local mock of the Telnyx API: " ..
    "creates two profiles, lists, retrieves, updates and deletes them, printing each " ..
    "step."
  local epilog = "`make demo` starts the mock (scripts/mock-server.lua) and runs this after demo.lua; " ..
    "to run it by hand, set TELNYX_BASE_URL to the mock's http://127.0.0.1:PORT/v2 and " ..
    "TELNYX_API_KEY to anything."
  cli.parser(NAME, description, epilog):parse(argv)
  local client = cli.local_client()
  print("\n== Messaging profiles")
  local made = {}
  for _, name in ipairs({ "alerts", "marketing" }) do
    local p = client.messaging_profiles:create{ name = name, whitelisted_destinations = { "US", "CA" } }.data
    made[#made + 1] = p
    print(("created  %-10s %s"):format(p.name, p.id))
  end
  local renamed = client.messaging_profiles:update(made[2].id, { name = "promotions" }).data
  print(("renamed  %-10s -> %s"):format("marketing", renamed.name))
  print(("retrieved %s: %s"):format(made[1].id, client.messaging_profiles:retrieve(made[1].id).data.name))
  local mine = {}
  for _, p in ipairs(made) do mine[p.id] = true end
  print("listing ours (1 per page, fetched lazily):")
  for p in client.messaging_profiles:list{ page = { size = 1 } } do
    if mine[p.id] then print(("  - %-10s %s"):format(p.name, p.id)) end
  end
  -- Checked against the spec before anything is sent.
  local ok, err = pcall(client.messaging_profiles.create, client.messaging_profiles, { nmae = "typo" })
  print("a misspelt field is refused before sending:\n  " .. (ok and "unexpected success" or tostring(err)))
  for _, p in ipairs(made) do
    client.messaging_profiles:delete(p.id)
    print("deleted  " .. p.id)
  end
  local ok2, gone = pcall(client.messaging_profiles.retrieve, client.messaging_profiles, made[1].id)
  print("retrieving a deleted profile: " .. (ok2 and "unexpected success" or gone.type .. " " .. gone.status))
  print("\nDone.")
  return cli.EXIT_OK
end

cli.main(NAME, main)
