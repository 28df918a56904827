-- The Lua half of spec/fuzz/fuzz_allowlist.c (also used by spec/hostile_input_spec.lua to replay
-- the corpus): returns the function called with each input, which raises (a finding) when a
-- property of the allowlist parser (telnyx.allowlist, what scripts/rotate-ip-allowlist.lua
-- uses) does not hold; see fuzz_allowlist.c.
require "telnyx" -- registers the embedded telnyx.* modules
local allowlist = require "telnyx.allowlist"

-- The file the input also goes through, read as the script reads FILE (file:lines()):
-- FUZZ_WORK_FILE (spec/fuzz/run.sh sets one under build/), else a temporary file removed when
-- the state closes.
local path = os.getenv("FUZZ_WORK_FILE")
local remover
if not path then
  path = os.tmpname()
  remover = setmetatable({}, { __gc = function() os.remove(path) end })
end

local function parse_file(text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
  f = assert(io.open(path, "r"))
  local entries, bad = allowlist.parse(f:lines())
  f:close()
  return entries, bad
end

local function same_result(a_entries, a_bad, b_entries, b_bad)
  if #a_entries ~= #b_entries or #a_bad ~= #b_bad then return false end
  for i, e in ipairs(a_entries) do
    if e.key ~= b_entries[i].key then return false end
  end
  for i, b in ipairs(a_bad) do
    if b.message ~= b_bad[i].message then return false end
  end
  return true
end

return function(text)
  local _ = remover
  local entries, bad = allowlist.parse(text)
  assert(same_result(entries, bad, parse_file(text)), "the text and its file parse alike")
  if #bad > 0 then -- refused: each bad line named, in order
    local last = 0
    for _, b in ipairs(bad) do
      assert(math.type(b.line) == "integer" and b.line > last, "bad lines in order")
      last = b.line
      assert(b.message:match("^line " .. b.line .. ": ."), "a message names its line: " .. b.message)
      assert(not b.message:find("\n"), "a message is one line")
    end
    return
  end
  local seen = {}
  for _, entry in ipairs(entries) do
    assert(type(entry.value) == "string" and (entry.kind == "address" or entry.kind == "range"),
           "an entry has kind and value")
    assert(entry.key == entry.kind .. " " .. entry.value, "an entry's key is kind and value")
    assert(not seen[entry.key], "entries are unique: " .. entry.key)
    seen[entry.key] = true
    local again, why = allowlist.parse_entry(entry.value)
    assert(again, "a normal form parses: " .. entry.value .. ": " .. tostring(why))
    assert(again.value == entry.value and again.kind == entry.kind,
           "a normal form is stable: " .. entry.value .. " -> " .. again.value)
  end
end
