-- The Lua half of spec/fuzz/fuzz_json.c: returns the function called with each input. It
-- raises (a finding) when a property of telnyx.json does not hold; see fuzz_json.c.
local json = require("telnyx").json
local array_mt = getmetatable(json.array())

local function one_line(msg, what)
  if type(msg) ~= "string" or msg:find("[\r\n]") then
    error(what .. " is not a one-line message: " .. tostring(msg), 0)
  end
end

-- Deep equality of decoded values: same types (integer or float too), arrays stay arrays.
local function same(a, b, path)
  if type(a) ~= type(b) or math.type(a) ~= math.type(b) then
    error(("%s: %s %s became %s %s"):format(path, type(a), tostring(a), type(b), tostring(b)), 0)
  end
  if type(a) ~= "table" then
    if a ~= b then error(("%s: %s became %s"):format(path, tostring(a), tostring(b)), 0) end
    return
  end
  if (getmetatable(a) == array_mt) ~= (getmetatable(b) == array_mt) then
    error(path .. ": an array and an object swapped", 0)
  end
  for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
  for k in pairs(b) do
    if a[k] == nil then error(path .. ": a key appeared: " .. tostring(k), 0) end
  end
  -- An object's null fields read as nil (pairs skips them): they must survive too.
  local na, nb = json.nulls(a), json.nulls(b)
  table.sort(na)
  table.sort(nb)
  if table.concat(na, "\0") ~= table.concat(nb, "\0") or #na ~= #nb then
    error(("%s: the null fields {%s} became {%s}"):format(path, table.concat(na, ","),
                                                          table.concat(nb, ",")), 0)
  end
end

return function(text)
  local ok, value = pcall(json.decode, text)
  if not ok then return one_line(value, "a decoding error") end
  local encoded
  ok, encoded = pcall(json.encode, value)
  if not ok then return one_line(encoded, "an encoding error") end
  local ok2, again = pcall(json.decode, encoded)
  if not ok2 then error("the encoder wrote text the decoder refuses: " .. again, 0) end
  same(value, again, "$")
end
