-- telnyx.map's results (issue 21): results.n counts the items, a failed item's slot is nil and
-- failures says why, so `for i = 1, results.n` walks every item where ipairs would stop at the
-- first failure. No requests: the functions run without yielding.
local telnyx = require "telnyx"

describe("telnyx.map results", function()
  it("has n = the number of items; failed slots are nil and failures name them", function()
    local items = { "a", "b", "c", "d", "e" }
    local results, failures = telnyx.map(items, function(item, i)
      if i == 2 or i == 4 then error("no " .. item, 0) end
      return item:upper()
    end)
    assert.are.equal(5, results.n)
    local walked = {}
    for i = 1, results.n do walked[i] = results[i] or "-" end
    assert.are.same({ "A", "-", "C", "-", "E" }, walked)
    local seen = 0
    for _ in ipairs(results) do seen = seen + 1 end
    assert.are.equal(1, seen, "ipairs stops at the first failure: why n is there")
    local keys = {}
    for k in pairs(results) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ 1, 3, 5 }, keys, "pairs sees the items only, not n")
    assert.are.equal(2, #failures)
    table.sort(failures, function(x, y) return x.index < y.index end)
    assert.are.same({ index = 2, item = "b", error = "no b" }, failures[1])
    assert.are.same({ index = 4, item = "d", error = "no d" }, failures[2])
  end)

  it("n is 0 for no items, and counts items whose function returned nothing", function()
    local results, failures = telnyx.map({}, function() return 1 end)
    assert.are.equal(0, results.n)
    assert.are.same({}, failures)
    results = telnyx.map({ 1, 2, 3 }, function() end)
    assert.are.equal(3, results.n)
    assert.is_nil(results[1])
  end)
end)
