-- The generated file tree of scripts/build/gen-resources.lua: the sha256 of its input,
-- writing the files into a directory, and comparing two directories.
local M = {}

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = f:read("a")
  f:close()
  return data
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

function M.shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The sha256 of a file, by coreutils' sha256sum. Returns the hex digest, or nil and a message.
function M.sha256_of(path)
  local p = io.popen("sha256sum -- " .. M.shell_quote(path) .. " 2>&1")
  local out = p:read("a")
  p:close()
  local digest = out:match("^(%x+) ")
  if not digest or #digest ~= 64 then return nil, "sha256sum " .. path .. ": " .. out end
  return digest
end

local function write_file(path, text)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  f:write(text)
  f:close()
  local ok, rerr = os.rename(tmp, path)
  if not ok then os.remove(tmp); return nil, rerr end
  return true
end

-- The generated files present under dir (relative names, as render gives them).
local function present(dir)
  local out = {}
  if read_file(dir .. "/resources.lua") then out["resources.lua"] = true end
  for _, sub in ipairs({ "api", "doc" }) do
    local p = io.popen("ls -1 " .. M.shell_quote(dir .. "/" .. sub) .. " 2>/dev/null")
    for name in p:lines() do
      if name:match("^[%w_]+%.lua$") then out[sub .. "/" .. name] = true end
    end
    p:close()
  end
  return out
end

-- Writes files into dir, leaving unchanged ones alone (so make sees no new mtime) and
-- removing generated files the model no longer has. Returns true, or nil and a message.
function M.write_all(dir, files)
  for _, sub in ipairs({ "api", "doc" }) do
    os.execute("mkdir -p " .. M.shell_quote(dir .. "/" .. sub))
  end
  for _, rel in ipairs(sorted_keys(files)) do
    local path = dir .. "/" .. rel
    if read_file(path) ~= files[rel] then
      local ok, err = write_file(path, files[rel])
      if not ok then return nil, "cannot write " .. path .. ": " .. err end
    end
  end
  for rel in pairs(present(dir)) do
    if not files[rel] then os.remove(dir .. "/" .. rel) end
  end
  return true
end

-- The names of the files that differ between two output directories, sorted.
function M.differences(a, b)
  local names, out = present(a), {}
  for rel in pairs(present(b)) do names[rel] = true end
  for _, rel in ipairs(sorted_keys(names)) do
    if read_file(a .. "/" .. rel) ~= read_file(b .. "/" .. rel) then
      out[#out + 1] = rel
    end
  end
  return out
end


return M
