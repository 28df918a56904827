-- Helpers every part of the mock uses: the libraries (found where Debian puts them), logging,
-- time, a seeded PRNG, JSON as the API writes it, and URL decoding.

local concat = table.concat
local format, find, sub, gsub, char, byte, match, gmatch =
  string.format, string.find, string.sub, string.gsub, string.char, string.byte, string.match, string.gmatch
local floor, tointeger = math.floor, math.tointeger

-- Libraries. A host built from upstream Lua sources searches only /usr/local;
-- the Debian packages live in the distribution paths, so fall back to those.
local system_paths_added = false
local function require_system(name)
  local ok, mod = pcall(require, name)
  if ok then return mod end
  if not system_paths_added then
    system_paths_added = true
    package.path = package.path .. ";/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua"
    package.cpath = package.cpath .. ";/usr/lib/x86_64-linux-gnu/lua/5.4/?.so"
      .. ";/usr/lib/aarch64-linux-gnu/lua/5.4/?.so;/usr/lib/lua/5.4/?.so"
  end
  return require(name)
end

local socket = require_system "socket"
local cjson = require_system "cjson"
local NULL = cjson.null
local JSON_TYPE = "application/json"

local M = {verbose = false}   -- verbose: log() writes (the entry point sets it from --verbose)

local function log(fmt, ...)
  if M.verbose then io.stderr:write(format(fmt, ...), "\n") end
end
local function log_error(msg)
  io.stderr:write("mock-server: ", tostring(msg), "\n")
end

-- Time

local function now_ms() return socket.gettime() * 1000 end

local iso_second, iso_prefix = nil, nil   -- os.date once per second, not per record
local function iso8601(ms)
  ms = floor(ms)
  local second = ms // 1000
  if second ~= iso_second then
    iso_second, iso_prefix = second, os.date("!%Y-%m-%dT%H:%M:%S", second)
  end
  return format("%s.%03dZ", iso_prefix, ms % 1000)
end

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm);
-- os.time would apply the local time zone.
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m > 2 and m - 3 or m + 9) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- ISO 8601 date or date-time (as the filters take them) -> epoch ms, or nil.
local function parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = match(s, "^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, se, ms, zone = 0, 0, 0, 0, ""
  if rest ~= "" then
    local hh, mm, tail = match(rest, "^[Tt ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, after = match(tail, "^:(%d%d)(.*)$")
    if ss then
      se, tail = tonumber(ss), after
      local frac, after2 = match(tail, "^%.(%d+)(.*)$")
      if frac then ms, tail = tonumber(sub(frac .. "000", 1, 3)), after2 end
    end
    zone = tail
  end
  local offset = 0
  if zone ~= "" and zone ~= "Z" and zone ~= "z" then
    local sign, zh, zm = match(zone, "^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(zh) * 60 + tonumber(zm)) * (sign == "+" and 1 or -1)
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  return (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset * 60) * 1000 + ms
end

-- Seeded PRNG (splitmix64). math.random has one global state; ids and request
-- ids get separate generators so that logging or control calls never shift ids.

local ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function new_rng(seed)
  local state = tointeger(seed) or floor(seed)
  local rng = {}
  local function u64()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  rng.u64 = u64
  function rng.below(n) return (u64() >> 1) % n end
  function rng.uuid()
    local a, b = u64(), u64()
    return format("%08x-%04x-4%03x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
      ((b >> 48) & 0x3fff) | 0x8000, b & 0xffffffffffff)
  end
  -- Telnyx int64 ids are 19-digit decimal strings ("1293384261075731499").
  function rng.int64_id() return format("%d", (u64() >> 3) + 1000000000000000000) end
  function rng.chars(n, alphabet)
    local out, len = {}, #alphabet
    for i = 1, n do
      local k = (u64() >> 1) % len + 1
      out[i] = sub(alphabet, k, k)
    end
    return concat(out)
  end
  function rng.hex(n) return rng.chars(n, "0123456789abcdef") end
  return rng
end

local function base64url(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a << 16 | (b or 0) << 8 | (c or 0)
    local k = #out
    out[k + 1] = sub(B64URL, (v >> 18) + 1, (v >> 18) + 1)
    out[k + 2] = sub(B64URL, (v >> 12 & 63) + 1, (v >> 12 & 63) + 1)
    if b then out[k + 3] = sub(B64URL, (v >> 6 & 63) + 1, (v >> 6 & 63) + 1) end
    if c then out[k + 4] = sub(B64URL, (v & 63) + 1, (v & 63) + 1) end
  end
  return concat(out)
end

-- JSON. cjson 2.1.0 encodes an empty table as {}; wherever the schema says
-- "array" an empty one is stored as EMPTY_ARRAY and rewritten to [] after encoding.

local EMPTY_ARRAY = "\1EMPTY_ARRAY\1"
local EMPTY_ARRAY_JSON = '"\\u0001EMPTY_ARRAY\\u0001"'   -- how cjson writes it; no magic chars

local function json_encode(value)
  local text = cjson.encode(value)
  if find(text, EMPTY_ARRAY_JSON, 1, true) then text = gsub(text, EMPTY_ARRAY_JSON, "[]") end
  -- cjson writes every "/" as "\/"; the API does not. Each "\/" is such an escape
  -- (cjson never writes a bare "/"), so undoing them all is safe.
  if find(text, "\\/", 1, true) then text = gsub(text, "\\/", "/") end
  return text
end

local function json_decode(text)
  local ok, value = pcall(cjson.decode, text)
  if ok then return value end
  return nil, tostring(value)
end

-- cjson gives [] and {} alike as an empty table; both count as an array here.
local function is_array(v)
  return type(v) == "table" and (rawlen(v) > 0 or next(v) == nil)
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end

-- A number as the API would print it in a query string: 10 rather than 10.0.
local function scalar_text(v)
  if type(v) == "number" and v % 1 == 0 then return format("%d", v) end
  return tostring(v)
end

-- URLs

local function hex_char(h) return char(tonumber(h, 16)) end

local function percent_decode(s) return (gsub(s, "%%(%x%x)", hex_char)) end

local function query_decode(s) return percent_decode((gsub(s, "%+", " "))) end

-- "filter%5Bip_address%5D=1.2.3.4&page[size]=5" -> {["filter[ip_address]"]="1.2.3.4", ...}
-- A repeated key keeps its last value.
local function parse_query(query)
  local params = {}
  for pair in gmatch(query, "[^&]+") do
    local k, v = match(pair, "^([^=]*)=?(.*)$")
    params[query_decode(k)] = query_decode(v)
  end
  return params
end

M.require_system = require_system
M.socket = socket
M.cjson = cjson
M.NULL = NULL
M.JSON_TYPE = JSON_TYPE
M.log = log
M.log_error = log_error
M.now_ms = now_ms
M.iso8601 = iso8601
M.parse_time = parse_time
M.new_rng = new_rng
M.base64url = base64url
M.ALNUM = ALNUM
M.B64URL = B64URL
M.EMPTY_ARRAY = EMPTY_ARRAY
M.json_encode = json_encode
M.json_decode = json_decode
M.is_array = is_array
M.deep_copy = deep_copy
M.scalar_text = scalar_text
M.percent_decode = percent_decode
M.parse_query = parse_query
return M
