-- telnyx.allowlist: the IP allowlist format scripts/rotate-ip-allowlist.lua reads (addresses and
-- CIDR blocks, their normal forms, bad lines named by number). The script's own behaviour
-- against the mock is in spec/scripts/rotate_spec.lua; the fuzz corpus is replayed by
-- spec/hostile_input_spec.lua and, here, checked for what each file means.
require "telnyx" -- registers the embedded telnyx.* modules
local allowlist = require "telnyx.allowlist"

local cli = require "spec.support.cli"

local CORPUS = "spec/fuzz/corpus/fuzz_allowlist/"

local function read(path) return assert(cli.read_file(path)) end

-- "kind value" of each entry, in order.
local function keys(entries)
  local out = {}
  for i, e in ipairs(entries) do out[i] = e.key end
  return out
end

-- The messages of the bad lines, in order.
local function messages(bad)
  local out = {}
  for i, b in ipairs(bad) do out[i] = b.message end
  return out
end

describe("telnyx.allowlist.normal_form", function()
  local normal_form = allowlist.normal_form

  it("takes IPv4 addresses as they are", function()
    for _, text in ipairs{ "10.0.0.1", "0.0.0.0", "255.255.255.255", "203.0.113.7", "1.2.3.40" } do
      assert.are.same({ "address", text }, { normal_form(text) })
    end
  end)

  it("writes IPv6 addresses in the RFC 5952 form", function()
    local cases = {
      { "2001:DB8:0:0:0:0:0:1", "2001:db8::1" },
      { "2001:0db8:0000::1", "2001:db8::1" },
      { "::", "::" },
      { "::1", "::1" },
      { "1::", "1::" },
      { "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
      { "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304" },
      { "::FFFF:192.0.2.1", "::ffff:192.0.2.1" },        -- IPv4-mapped keeps its dotted tail
      { "1:0:0:2:0:0:0:3", "1:0:0:2::3" },               -- the longest run of zeros
      { "1:0:0:2:0:0:3:4", "1::2:0:0:3:4" },             -- the first of two as long
      { "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" }, -- one zero group stays
    }
    for _, c in ipairs(cases) do
      assert.are.same({ "address", c[2] }, { normal_form(c[1]) }, c[1])
    end
  end)

  it("takes CIDR blocks without host bits, in normal form", function()
    local cases = {
      { "10.0.0.0/8", "10.0.0.0/8" },
      { "10.0.0.1/32", "10.0.0.1/32" },
      { "0.0.0.0/0", "0.0.0.0/0" },
      { "198.51.100.0/24", "198.51.100.0/24" },
      { "2001:DB8:0:0::/64", "2001:db8::/64" },
      { "fe80::/10", "fe80::/10" },
      { "::/0", "::/0" },
      { "2001:db8::1/128", "2001:db8::1/128" },
    }
    for _, c in ipairs(cases) do
      assert.are.same({ "range", c[2] }, { normal_form(c[1]) }, c[1])
    end
  end)

  it("refuses host bits naming the network, and clears them when lenient (the API's records)", function()
    local kind, why = normal_form("10.0.0.1/24")
    assert.is_nil(kind)
    assert.are.equal("'10.0.0.1/24' has host bits set; the network is 10.0.0.0/24", why)
    assert.are.same({ "range", "10.0.0.0/24" }, { normal_form("10.0.0.1/24", true) })
    assert.are.same({ "range", "2001:db8::/32" }, { normal_form("2001:DB8::1/32", true) })
  end)

  it("says what is wrong with a bad entry", function()
    local cases = {
      { "300.1.1.1", "'300.1.1.1' is not an IPv4 or IPv6 address or CIDR block: octet 300 is not in 0-255" },
      { "10.0.0.256", "octet 256 is not in 0-255" },
      { "010.0.0.1", "leading zeros are ambiguous (octal or decimal?)" },
      { "10.0.0.1/33", "'10.0.0.1/33': the prefix length must be 0-32 for IPv4" },
      { "2001:db8::1/129", "'2001:db8::1/129': the prefix length must be 0-128 for IPv6" },
      { "10.0.0.0/x", "the prefix length must be 0-32 for IPv4" },
      { "fe80::1%eth0", "a zone index (%...) is not allowed" },
      { "1::2::3", "'::' may appear only once" },
      { "1:2:3:4:5:6:7::8", "too many groups" },
      { "1:2:3:4:5:6:7:8:9", "'1:2:3:4:5:6:7:8:9' is not an IPv4 or IPv6 address or CIDR block" },
      { "::ffff:1.2.3.256", "octet 256 is not in 0-255" },
      { "gateway.example.com", "'gateway.example.com' is not an IPv4 or IPv6 address or CIDR block" },
      { "10.0.0.0/8/8", "'10.0.0.0/8/8': the prefix length must be 0-32 for IPv4" },
      { "", "'' is not an IPv4 or IPv6 address or CIDR block" },
    }
    for _, c in ipairs(cases) do
      local kind, why = normal_form(c[1])
      assert.is_nil(kind, c[1])
      assert.is_string(why, c[1])
      assert.truthy(why:find(c[2], 1, true), c[1] .. ": " .. tostring(why))
    end
  end)

  it("parse_entry gives kind, normal form and the key that identifies the entry", function()
    assert.are.same({ kind = "range", value = "2001:db8::/64", key = "range 2001:db8::/64" },
                    allowlist.parse_entry("2001:DB8::/64"))
    local entry, why = allowlist.parse_entry("10.0.0.1/24")
    assert.is_nil(entry)
    assert.matches("host bits", why)
  end)
end)

describe("telnyx.allowlist.parse", function()
  it("reads comments, blank lines, CRLF, a BOM and duplicates in other spellings", function()
    local entries, bad = allowlist.parse("\239\187\191# head\r\n203.0.113.7 # vpn\r\n\r\n" ..
      "  2001:DB8:0:0:0:0:0:1\t\r\n2001:db8::1\r\n198.51.100.0/24\r\n203.0.113.7\r\n#\r\n")
    assert.are.same({}, bad)
    assert.are.same({ "address 203.0.113.7", "address 2001:db8::1", "range 198.51.100.0/24" },
                    keys(entries))
  end)

  it("takes an address and the block of its own /32 as two entries", function()
    local entries = allowlist.parse("10.0.0.1\n10.0.0.1/32\n")
    assert.are.same({ "address 10.0.0.1", "range 10.0.0.1/32" }, keys(entries))
  end)

  it("names every bad line by its number, and only those", function()
    local entries, bad = allowlist.parse(table.concat({
      "# allowlist",                -- 1
      "10.0.0.1",                   -- 2
      "10.0.0.256",                 -- 3: octet out of range
      "",                           -- 4
      "010.0.0.1   # office",       -- 5: leading zero
      "10.0.0.1/24",                -- 6: host bits set
      "2001:db8::1/129",            -- 7: prefix too long
      "1.2.3.4 5.6.7.8",            -- 8: two entries
      "fe80::1%eth0",               -- 9: zone index
      "gateway.example.com",        -- 10
      "2001:db8::/32  # fine",      -- 11
    }, "\n") .. "\n")
    local lines = {}
    for i, b in ipairs(bad) do lines[i] = b.line end
    assert.are.same({ 3, 5, 6, 7, 8, 9, 10 }, lines)
    for _, b in ipairs(bad) do assert.matches("^line " .. b.line .. ": .", b.message) end
    assert.are.equal("line 6: '10.0.0.1/24' has host bits set; the network is 10.0.0.0/24",
                     bad[3].message)
    assert.are.equal("line 8: one entry a line, got '1.2.3.4 5.6.7.8'", bad[5].message)
    -- the good lines still parse (the caller decides not to use them)
    assert.are.same({ "address 10.0.0.1", "range 2001:db8::/32" }, keys(entries))
  end)

  it("keeps a bad line's text as it is, control characters included (the script escapes them)", function()
    local _, bad = allowlist.parse("10.0.0.1\n\27[2Jevil\r\n")
    assert.are.equal(1, #bad)
    assert.are.equal(2, bad[1].line)
    assert.truthy(bad[1].message:find("'\27[2Jevil'", 1, true), bad[1].message)
  end)

  it("takes a byte order mark only at the start of the file", function()
    local _, bad = allowlist.parse("10.0.0.1\n\239\187\19110.0.0.2\n")
    assert.are.equal(1, #bad)
    assert.are.equal(2, bad[1].line)
  end)

  it("takes nothing from an empty file, or one of comments and blank lines", function()
    for _, text in ipairs{ "", "\n", "# only\n\n   \n", "#" } do
      local entries, bad = allowlist.parse(text)
      assert.are.same({}, entries, text)
      assert.are.same({}, bad, text)
    end
  end)

  it("counts lines as file:lines() does, whether given text or a line iterator", function()
    for _, text in ipairs{ "x\n10.0.0.1", "10.0.0.1\n\nx\n", "\n\nx", "x\r\n", "\0\n" } do
      local from_text = { allowlist.parse(text) }
      local from_lines = { allowlist.parse(text:gmatch("([^\n]*)\n?")) }
      -- gmatch gives one empty match at the very end of a text that ends in "\n": drop it
      if text:sub(-1) == "\n" then
        from_lines = { allowlist.parse((text:sub(1, -2)):gmatch("([^\n]*)\n?")) }
      end
      assert.are.same(messages(from_text[2]), messages(from_lines[2]), text)
      assert.are.same(keys(from_text[1]), keys(from_lines[1]), text)
      assert.are.equal(1, #from_text[2], text)
    end
  end)
end)

describe("the fuzz corpus of the allowlist parser", function()
  it("mixed: comments, a trailing comment, IPv6 in other case, a mapped address", function()
    local entries, bad = allowlist.parse(read(CORPUS .. "mixed"))
    assert.are.same({}, bad)
    assert.are.same({ "address 203.0.113.7", "range 198.51.100.0/24", "address 2001:db8::1",
                      "range 2001:db8::/64", "address ::ffff:192.0.2.1" }, keys(entries))
  end)

  it("v6: the edge cases of IPv6 and of prefixes", function()
    local entries, bad = allowlist.parse(read(CORPUS .. "v6"))
    assert.are.same({}, bad)
    assert.are.same({ "address ::", "address ::1", "address 1:2:3:4:5:6:7:8",
                      "address 1:2:3:4:5:6:102:304", "range fe80::/10", "range ::/0",
                      "range 0.0.0.0/0" }, keys(entries))
  end)

  it("bom_crlf and dupes", function()
    local entries, bad = allowlist.parse(read(CORPUS .. "bom_crlf"))
    assert.are.same({}, bad)
    assert.are.same({ "address 10.0.0.1", "range 10.0.0.0/8" }, keys(entries))
    entries, bad = allowlist.parse(read(CORPUS .. "dupes"))
    assert.are.same({}, bad)
    assert.are.same({ "address 10.0.0.1", "address 2001:db8::1" }, keys(entries))
  end)

  it("bad: every line refused, each for its own reason", function()
    local entries, bad = allowlist.parse(read(CORPUS .. "bad"))
    assert.are.same({}, entries)
    assert.are.same({
      "line 1: '300.1.1.1' is not an IPv4 or IPv6 address or CIDR block: octet 300 is not in 0-255",
      "line 2: '10.0.0.1/33': the prefix length must be 0-32 for IPv4",
      "line 3: one entry a line, got '10.0.0.1 10.0.0.2'",
      "line 4: '010.0.0.1' is not an IPv4 or IPv6 address or CIDR block: leading zeros are " ..
        "ambiguous (octal or decimal?)",
      "line 5: 'fe80::1%eth0' is not an IPv4 or IPv6 address or CIDR block: a zone index (%...) " ..
        "is not allowed",
      "line 6: '1::2::3' is not an IPv4 or IPv6 address or CIDR block: '::' may appear only once",
      "line 7: '10.0.0.1/24' has host bits set; the network is 10.0.0.0/24",
    }, messages(bad))
  end)
end)
