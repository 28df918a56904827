-- The Lua half of spec/fuzz/fuzz_allowlist.c (also used by spec/hostile_input_spec.lua to replay
-- the corpus): returns the function called with each input, which raises (a finding) when a
-- property of the allowlist parser does not hold; see fuzz_allowlist.c.
--
-- The parser is the script's own code, not a copy: the script runs with telnyx.cli.main
-- replaced by a stub that keeps the script's main function, and read_entries and parse_entry
-- are found among the upvalues of that function.
local SCRIPT = "scripts/rotate-ip-allowlist.lua"

local real_cli = require "telnyx.cli"
local warnings = {}
local captured_main
local stub = setmetatable({
  main = function(_, main) captured_main = main end,
  warn = function(fmt, ...)
    warnings[#warnings + 1] = select("#", ...) > 0 and fmt:format(...) or fmt
  end,
}, { __index = real_cli })

local saved = package.loaded["telnyx.cli"]
package.loaded["telnyx.cli"] = stub
local chunk = assert(loadfile(SCRIPT, "t"))
chunk()
package.loaded["telnyx.cli"] = saved
assert(captured_main, SCRIPT .. " did not call cli.main")

local function upvalue(fn, name)
  for i = 1, math.huge do
    local n, v = debug.getupvalue(fn, i)
    if n == nil then break end
    if n == name then return v end
  end
  error(("%s: no upvalue %s (the parser moved?)"):format(SCRIPT, name), 0)
end
local read_entries = upvalue(captured_main, "read_entries")
local parse_entry = upvalue(read_entries, "parse_entry")

-- The file the input goes through: FUZZ_WORK_FILE (spec/fuzz/run.sh sets one under build/),
-- else a temporary file removed when the state closes.
local path = os.getenv("FUZZ_WORK_FILE")
local remover
if not path then
  path = os.tmpname()
  remover = setmetatable({}, { __gc = function() os.remove(path) end })
end

return function(text)
  local _ = remover
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
  for i = #warnings, 1, -1 do warnings[i] = nil end
  local ok, entries = pcall(read_entries, path)
  if not ok then
    if real_cli.is_usage_error(entries) then return end -- a file that cannot be read
    error("read_entries raised: " .. tostring(entries), 0)
  end
  if entries == nil then -- refused: each bad line named, then the count
    assert(#warnings >= 2, "a refused file names its bad lines")
    for i = 1, #warnings - 1 do
      assert(warnings[i]:match(" line %d+: "), "a warning names its line: " .. warnings[i])
      assert(not warnings[i]:find("\n"), "a warning is one line")
    end
    return
  end
  assert(#warnings == 0, "an accepted file has no warnings")
  local seen = {}
  for _, entry in ipairs(entries) do
    assert(type(entry.value) == "string" and type(entry.kind) == "table", "an entry has kind and value")
    local key = entry.kind.name .. " " .. entry.value
    assert(not seen[key], "entries are unique: " .. key)
    seen[key] = true
    local again, why = parse_entry(entry.value)
    assert(again, "a normal form parses: " .. entry.value .. ": " .. tostring(why))
    assert(again.value == entry.value and again.kind == entry.kind,
           "a normal form is stable: " .. entry.value .. " -> " .. again.value)
  end
end
