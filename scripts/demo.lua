-- A tour of telnyx-lua against a Telnyx API (the local mock in `make demo`): billing groups and
-- the IP allowlist, created, listed, updated and deleted. Reads TELNYX_API_KEY and
-- TELNYX_BASE_URL like every script; refuses to run against the real API by accident.

local telnyx = require "telnyx"
local cli = require "telnyx.cli"

local NAME = "demo.lua"

local function main(argv)
  local description = "A tour of telnyx-lua against a local mock of the Telnyx API: creates, lists, updates " ..
    "and deletes billing groups and IP allowlist entries, printing each step."
  local epilog = "`make demo` starts the mock (scripts/mock-server.lua) and runs this against it; to " ..
    "run it by hand, set TELNYX_BASE_URL to the mock's http://127.0.0.1:PORT/v2 and " ..
    "TELNYX_API_KEY to anything."
  cli.parser(NAME, description, epilog):parse(argv)
  local client = cli.local_client()
  print(("Talking to %s"):format(client.base_url))

  local function step(title) print("\n== " .. title) end

  step("Billing groups")
  local created = {}
  for _, name in ipairs({ "engineering", "support", "sales" }) do
    local group = client.billing_groups:create{ name = name }.data
    created[#created + 1] = group
    print(("created  %-12s %s"):format(group.name, group.id))
  end
  local renamed = client.billing_groups:update(created[2].id, { name = "customer-support" }).data
  print(("renamed  %-12s -> %s"):format("support", renamed.name))
  print("listing (2 per page, fetched lazily):")
  for group in client.billing_groups:list{ page = { size = 2 } } do
    print(("  - %-18s %s"):format(group.name, group.id))
  end

  step("IP allowlist, added concurrently")
  local addresses = { "203.0.113.10", "203.0.113.11", "203.0.113.12", "198.51.100.7" }
  local results, failures = telnyx.map(addresses, function(ip)
    return client.access_ip_address:create{ ip_address = ip, description = "demo" }
  end, { concurrency = 4 })
  for i, entry in ipairs(results) do
    print(("added    %-15s status=%s id=%s"):format(addresses[i], entry.status, entry.id))
  end
  for _, failure in ipairs(failures) do print("failed   " .. tostring(failure.error)) end
  local range = client.access_ip_ranges:create{ cidr_block = "192.0.2.0/24", description = "office" }
  print(("added    range %s"):format(range.cidr_block))

  local ok, err = pcall(client.access_ip_address.create, client.access_ip_address,
                        { ip_address = addresses[1] })
  print("adding a duplicate fails cleanly:\n  " .. (ok and "unexpected success" or tostring(err)))

  print("filtered list (filter[ip_address] = " .. addresses[4] .. "):")
  for entry in client.access_ip_address:list{ filter = { ip_address = addresses[4] } } do
    print(("  - %s (%s)"):format(entry.ip_address, entry.description or ""))
  end

  step("Clean up")
  -- Collect first: deleting while paging would shift later pages under the pager.
  for _, entry in ipairs(client.access_ip_address:list{ page = { size = 250 } }:collect()) do
    client.access_ip_address:delete(entry.id)
    print("deleted  " .. entry.ip_address)
  end
  client.access_ip_ranges:delete(range.id)
  print("deleted  range " .. range.cidr_block)
  for _, group in ipairs(created) do
    client.billing_groups:delete(group.id)
    print("deleted  billing group " .. group.id)
  end
  local ok2, gone = pcall(client.billing_groups.retrieve, client.billing_groups, created[1].id)
  print("retrieving a deleted group: " .. (ok2 and "unexpected success" or gone.type .. " " .. gone.status))
  print("\nDone.")
  return cli.EXIT_OK
end

cli.main(NAME, main)
