-- `make demo` (scripts/demo.sh): both tours, account access (scripts/demo.lua) and then
-- messaging profiles (scripts/demo-messaging.lua), run against the mock it starts, exit 0 and
-- print what they did.
local cli = require "spec.support.cli"

describe("make demo", function()
  it("runs both tours against a mock and says what each did", function()
    local r = cli.run { "sh", "scripts/demo.sh", cli.HOST, cwd = cli.ROOT, timeout = 60 }
    assert.are.equal(0, r.status, r.stderr)
    local out = r.stdout
    local function has(text) assert.truthy(out:find(text, 1, true), text .. " missing from:\n" .. out) end
    has("mock Telnyx API at http://127.0.0.1:")
    -- account access
    has("== Billing groups")
    has("renamed  support      -> customer-support")
    has("== IP allowlist, added concurrently")
    has("adding a duplicate fails cleanly:")
    has("retrieving a deleted group: NotFoundError 404")
    -- messaging profiles, after it
    local second = assert(out:find("== Messaging profiles", 1, true), out)
    assert.is_true(second > assert(out:find("== Clean up", 1, true)))
    assert.matches("created  alerts     %x+%-", out)
    has("renamed  marketing  -> promotions")
    has("  - alerts     ")
    has("  - promotions ")
    has("messaging_profiles:create: unknown body field 'nmae' (did you mean name?)")
    has("retrieving a deleted profile: NotFoundError 404")
    assert.are.equal(2, select(2, out:gsub("\nDone%.\n", "")))
  end)

  it("the messaging tour refuses to run without a local TELNYX_BASE_URL", function()
    local r = cli.run { cli.HOST, "scripts/demo-messaging.lua", cwd = cli.ROOT,
                        env = { TELNYX_BASE_URL = "https://api.telnyx.com/v2", TELNYX_API_KEY = "k" } }
    assert.are.equal(2, r.status)
    assert.matches("set TELNYX_BASE_URL to a local mock", r.stderr)
  end)
end)
