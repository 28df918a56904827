-- Small helpers shared by the REPL's modules (printer, help, complete, repl). Internal: loaded
-- only by the modules that use them, never at `require "telnyx"` time.

local telnyx = require "telnyx"

local M = {}

local DEFAULT_WIDTH = 80

M.KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
  "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}
local KEYWORD_SET = {}
for _, k in ipairs(M.KEYWORDS) do KEYWORD_SET[k] = true end

-- Whether s can follow a '.' (a name that is not a keyword).
function M.is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and not KEYWORD_SET[s]
end

-- The keys of t, sorted (they must be comparable with each other).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- Fields of the telnyx module that help and completion leave out: "_" first, such as
-- telnyx._is_secret_key, which is there for the Lua parts, not for users.
function M.is_internal(k) return type(k) == "string" and k:sub(1, 1) == "_" end

-- The metatable's __name, read without tripping a __metatable guard or an __index.
function M.type_name(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local name = rawget(mt, "__name")
  return type(name) == "string" and name or nil
end

-- telnyx.describe never raises for values it does not know, but stay safe for odd userdata.
function M.describe(v)
  local ok, d = pcall(telnyx.describe, v)
  if ok and type(d) == "table" then return d end
  return nil
end

-- COLUMNS when it is a sensible width, else 80.
function M.terminal_width()
  local cols = tonumber(os.getenv("COLUMNS") or "")
  return (cols and cols >= 20) and cols or DEFAULT_WIDTH
end

return M
