-- The IP allowlist file format of scripts/rotate-ip-allowlist.lua: IPv4/IPv6 addresses and
-- CIDR blocks, one a line, checked and put in a normal form so that two spellings of one entry
-- compare equal. What counts as valid (the script's --help says the same):
--   - IPv4: four decimal octets 0-255. A leading zero ("010.0.0.1") is refused: some tools
--     read it as octal, so the address it means is ambiguous.
--   - IPv6: as RFC 4291 writes it (with `::` and a dotted IPv4 tail allowed), no zone index;
--     the normal form is RFC 5952's (lower case, no leading zeros, the longest run of zero
--     groups as `::`).
--   - CIDR: an address, `/`, a prefix length (0-32 for IPv4, 0-128 for IPv6). A block with
--     host bits set ("10.0.0.1/24") is refused, naming the network it would be ("10.0.0.0/24").
--   - A file: blank lines and `#` comments (whole-line or trailing) are allowed, a UTF-8 byte
--     order mark and CR line ends too; duplicates (also in another spelling) count once.

local M = {}

-- "a.b.c.d" -> {a, b, c, d}; nil (and why, when it looks like IPv4) otherwise.
local function parse_ipv4(s)
  local parts = { s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$") }
  if #parts ~= 4 then return nil end
  local octets = {}
  for i, p in ipairs(parts) do
    if #p > 3 or tonumber(p) > 255 then return nil, "octet " .. p .. " is not in 0-255" end
    if #p > 1 and p:sub(1, 1) == "0" then
      return nil, "leading zeros are ambiguous (octal or decimal?)"
    end
    octets[i] = tonumber(p)
  end
  return octets
end

-- Colon-separated hex groups ("" is none) -> array of 16-bit values; the last field may be
-- a dotted IPv4 address (two groups) when ipv4_tail is set.
local function parse_groups(text, ipv4_tail)
  local groups = {}
  if text == "" then return groups end
  local fields = {}
  for field in (text .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = field end
  for i, field in ipairs(fields) do
    if ipv4_tail and i == #fields and field:find(".", 1, true) then
      local o, why = parse_ipv4(field)
      if not o then return nil, why or ("bad IPv4 part '" .. field .. "'") end
      groups[#groups + 1] = o[1] << 8 | o[2]
      groups[#groups + 1] = o[3] << 8 | o[4]
    elseif field:match("^%x%x?%x?%x?$") then
      groups[#groups + 1] = tonumber(field, 16)
    else
      return nil
    end
  end
  return groups
end

-- An IPv6 address -> array of 8 16-bit groups; nil (and why, when known) otherwise.
local function parse_ipv6(s)
  if s:find("%", 1, true) then return nil, "a zone index (%...) is not allowed" end
  if not s:find(":", 1, true) or not s:match("^[%x:%.]+$") then return nil end
  local head, tail = s:match("^(.-)::(.*)$")
  if head == nil then
    local groups, why = parse_groups(s, true)
    if not groups or #groups ~= 8 then return nil, why end
    return groups
  end
  if tail:find("::", 1, true) then return nil, "'::' may appear only once" end
  local left, why = parse_groups(head, false)
  if not left then return nil, why end
  local right
  right, why = parse_groups(tail, true)
  if not right then return nil, why end
  if #left + #right > 7 then return nil, "too many groups" end
  local groups = left
  for _ = 1, 8 - #left - #right do groups[#groups + 1] = 0 end
  for _, g in ipairs(right) do groups[#groups + 1] = g end
  return groups
end

-- RFC 5952 text of 8 groups: lower case, no leading zeros, the first longest run of two or
-- more zero groups as "::", IPv4-mapped addresses with their dotted tail.
local function format_ipv6(g)
  if g[1] == 0 and g[2] == 0 and g[3] == 0 and g[4] == 0 and g[5] == 0 and g[6] == 0xffff then
    return ("::ffff:%d.%d.%d.%d"):format(g[7] >> 8, g[7] & 255, g[8] >> 8, g[8] & 255)
  end
  local best, best_len, i = nil, 1, 1
  while i <= 8 do
    if g[i] == 0 then
      local j = i
      while j <= 8 and g[j] == 0 do j = j + 1 end
      if j - i > best_len then best, best_len = i, j - i end
      i = j
    else
      i = i + 1
    end
  end
  local function hex(from, to)
    local t = {}
    for k = from, to do t[#t + 1] = ("%x"):format(g[k]) end
    return table.concat(t, ":")
  end
  if not best then return hex(1, 8) end
  return hex(1, best - 1) .. "::" .. hex(best + best_len, 8)
end

-- An address -> {family=4|6, parts=, width= bits per part, bits= total}, or nil and why.
local function parse_address(s)
  local v4, why = parse_ipv4(s)
  if v4 then return { family = 4, parts = v4, width = 8, bits = 32 } end
  if why then return nil, why end
  local v6
  v6, why = parse_ipv6(s:lower())
  if v6 then return { family = 6, parts = v6, width = 16, bits = 128 } end
  return nil, why
end

local function format_address(a)
  return a.family == 4 and table.concat(a.parts, ".") or format_ipv6(a.parts)
end

-- A copy of the address with the bits after `prefix` cleared.
local function network_of(a, prefix)
  local parts = {}
  for i, v in ipairs(a.parts) do
    local keep = math.max(0, math.min(a.width, prefix - (i - 1) * a.width))
    parts[i] = v & (((1 << a.width) - 1) ~ ((1 << (a.width - keep)) - 1))
  end
  return { family = a.family, parts = parts, width = a.width, bits = a.bits }
end

-- Whether an octet of a dotted IPv4 address is in its normal form: 0-255, no leading zero.
local function plain_octet(p)
  return #p == 1 or (p:byte(1) ~= 48 and tonumber(p) <= 255) -- 48: "0"
end

-- normal_form(text [, lenient]) -> kind ("address" or "range") and the entry in normal form,
-- or nil and what is wrong with it. lenient (for entries read from the API): host bits of a
-- block are cleared, not refused.
local function normal_form(text, lenient)
  -- The common case first: an IPv4 address already in its normal form is its own value
  -- (long allowlists, and every record of the account, come this way).
  local o1, o2, o3, o4 = text:match("^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)$")
  if o1 and plain_octet(o1) and plain_octet(o2) and plain_octet(o3) and plain_octet(o4) then
    return "address", text
  end
  local addr_text, prefix_text = text:match("^([^/]*)/(.*)$")
  local a, why = parse_address(addr_text or text)
  if not a then
    return nil, ("'%s' is not an IPv4 or IPv6 address%s%s"):format(addr_text or text,
      addr_text and "" or " or CIDR block", why and (": " .. why) or "")
  end
  if not addr_text then return "address", format_address(a) end
  local prefix = prefix_text:match("^%d%d?%d?$") and tonumber(prefix_text)
  if not prefix or prefix > a.bits then
    return nil, ("'%s': the prefix length must be 0-%d for IPv%d"):format(text, a.bits, a.family)
  end
  local net = network_of(a, prefix)
  if not lenient and format_address(net) ~= format_address(a) then
    return nil, ("'%s' has host bits set; the network is %s/%d"):format(text, format_address(net), prefix)
  end
  return "range", format_address(net) .. "/" .. prefix
end

M.normal_form = normal_form

-- parse_entry(text [, lenient]) -> {kind =, value = normal form, key = kind .. " " .. value},
-- or nil and what is wrong with it.
function M.parse_entry(text, lenient)
  local kind, value = normal_form(text, lenient)
  if not kind then return nil, value end
  return { kind = kind, value = value, key = kind .. " " .. value }
end

-- The lines of a string, as file:lines() gives them (no empty line after a final newline).
local function string_lines(text)
  if text ~= "" and text:sub(-1) ~= "\n" then text = text .. "\n" end
  return text:gmatch("(.-)\n")
end

-- One line -> entry, nil (blank or comment), or nil and what is wrong with it.
local function parse_line(line)
  local text = line
  if text:find("[#%s]") then -- most lines are a bare entry: no comment, nothing to trim
    text = text:gsub("#.*$", ""):match("^%s*(.-)%s*$")
    if text:find("%s") then return nil, ("one entry a line, got '%s'"):format(text) end
  end
  if text == "" then return nil end
  return M.parse_entry(text)
end

-- parse(source) -> entries, bad. source: the text of a file, or an iterator of its lines
-- (file:lines()); an error the iterator raises (a read error) is not caught. entries: each
-- entry once, in the order of the file; bad: {line = number, message = "line N: what is
-- wrong"} for each bad line, in order. The entries are usable only when bad is empty.
function M.parse(source)
  local lines = type(source) == "string" and string_lines(source) or source
  local entries, seen, bad, n = {}, {}, {}, 0
  for line in lines do
    n = n + 1
    if n == 1 then line = line:gsub("^\239\187\191", "") end -- a UTF-8 byte order mark
    local entry, why = parse_line(line)
    if why then
      bad[#bad + 1] = { line = n, message = ("line %d: %s"):format(n, why) }
    elseif entry and not seen[entry.key] then
      seen[entry.key] = true
      entries[#entries + 1] = entry
    end
  end
  return entries, bad
end

return M
