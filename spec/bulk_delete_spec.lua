-- Bulk deletion (issue 21): deleting inside a walk over a list shifts its later pages and skips
-- items; pager:ids() reads every page first, so deleting over its ids leaves nothing behind.
-- Against the mock with 1,000 seeded addresses, 250 a page.
local R = require "spec.support.resources"

describe("bulk deletion", function()
  local env = R.env()
  local PAGE = { size = 250 }

  -- The mock reset with 1,000 allowlisted addresses and 3 ranges (not matching the list).
  local function seed()
    env.m:reset(R.MOCK_SEED)
    env.m:seed("access_ip_address", 1000)
    env.m:seed("access_ip_ranges", 3)
  end

  local function remaining(r) return #r:list{ page = PAGE }:collect() end

  it("a delete inside the walk skips items: the hazard pager:ids() guards against", function()
    seed()
    local r = env.client.access_ip_address
    local deleted = 0
    for ip in r:list{ page = PAGE } do
      r:delete(ip.id)
      deleted = deleted + 1
    end
    local left = remaining(r)
    assert.is_true(left > 0, "the naive loop deleted everything: the spec proves nothing")
    assert.are.equal(1000, deleted + left)
  end)

  it("deleting over pager:ids() removes every matching item of a 1,000-item list", function()
    seed()
    local r = env.client.access_ip_address
    local p = r:list{ page = PAGE }
    local ids = p:ids()
    assert.are.equal(1000, #ids)
    assert.are.equal("string", type(ids[1]))
    assert.are.equal("telnyx.Pager (access_ip_address:list, 4 pages fetched, done)", tostring(p))
    for _, id in ipairs(ids) do r:delete(id) end
    assert.are.equal(0, remaining(r))
    assert.are.equal(3, #env.client.access_ip_ranges:list{}:collect(), "only the matching list changed")
  end)

  it("ids(field) takes another field; an item without it is named; the rest of a started walk", function()
    env.m:reset(R.MOCK_SEED)
    env.m:seed("access_ip_address", 5)
    local r = env.client.access_ip_address
    local all = r:list{ page = { size = 2 } }:collect()
    local addresses = r:list{ page = { size = 2 } }:ids("ip_address")
    for i, item in ipairs(all) do assert.are.equal(item.ip_address, addresses[i]) end
    local p = r:list{ page = { size = 2 } }
    p()
    assert.are.same({ all[2].id, all[3].id, all[4].id, all[5].id }, p:ids())
    assert.are.same({}, p:ids(), "used up")
    local ok, err = pcall(function() return r:list{}:ids("no_such_field") end)
    assert.is_false(ok)
    assert.matches("ids: item 1 has no no_such_field", err, 1, true)
    ok, err = pcall(function() return r:list{}:ids(42) end)
    assert.is_false(ok)
    assert.matches("ids: field must be a string", err, 1, true)
  end)
end)
