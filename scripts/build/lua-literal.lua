-- Lua literals for generated data files (scripts/build/gen-resources.lua): a value rendered
-- with a fixed key order, so the same input gives the same bytes, and one line per scalar
-- table so diffs of the generated files stay readable.
local M = {}

local RANK = {}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
            repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

-- %q, but a newline as \n rather than a backslash-newline, so every string stays on one line.
local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

-- cjson decodes every number as a float: integral ones are written as integers, the rest in
-- the shortest form that reads back equal.
local function number_literal(n)
  local i = math.tointeger(n)
  if i then return string.format("%d", i) end
  if n ~= n then return "(0/0)" end
  if n == math.huge then return "1e999" elseif n == -math.huge then return "-1e999" end
  for precision = 15, 17 do
    local s = string.format("%." .. precision .. "g", n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end

local function ordered_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ra, rb = RANK[a] or math.huge, RANK[b] or math.huge
    if ra ~= rb then return ra < rb end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_list(t) return t[1] ~= nil or next(t) == nil end

-- A table of scalars and lists of scalars goes on one line, so each field, parameter and
-- resource is one line and diffs of the generated file stay readable. Lists of tables and
-- the operations themselves (`block`) get one line per item.
local function is_inline(t, block)
  if block then return false end
  for _, v in pairs(t) do
    if type(v) == "table" then
      if is_list(t) then return false end
      for _, x in pairs(v) do
        if type(x) == "table" then return false end
      end
    end
  end
  return true
end

local render_value

local function render_key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. (type(k) == "string" and quote(k) or tostring(k)) .. "]"
end

local function render_table(t, indent, block)
  if next(t) == nil then return "{}" end
  local items = {}
  if is_list(t) then
    for _, v in ipairs(t) do items[#items + 1] = render_value(v, indent .. "  ", block) end
  else
    for _, k in ipairs(ordered_keys(t)) do
      items[#items + 1] = render_key(k) .. " = "
                          .. render_value(t[k], indent .. "  ", k == "operations")
    end
  end
  if is_inline(t, block and not is_list(t)) then return "{ " .. table.concat(items, ", ") .. " }" end
  local inner = indent .. "  "
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. ",\n" .. indent .. "}"
end

function render_value(v, indent, block)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return number_literal(v) end
  if t == "boolean" then return tostring(v) end
  if t == "table" then return render_table(v, indent, block) end
  error("cannot render a " .. t)
end


-- The value as a Lua expression; keys named in key_order come first, in that order, then the
-- others sorted.
function M.render(v, key_order)
  RANK = {}
  for i, k in ipairs(key_order) do RANK[k] = i end
  return render_value(v, "", false)
end

return M
