-- Helpers every part of the bench uses: the system libraries (found where Debian puts them),
-- logging, shell quoting, files, commands' output, and the statistics and units of the tables.

local format = string.format

local M = {}

-- A host built from upstream Lua sources searches only /usr/local; the Debian packages live
-- in the distribution paths, so fall back to those.
local system_paths_added = false
function M.require_system(name)
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

function M.log(fmt, ...) io.stderr:write(format(fmt, ...), "\n") end

-- s quoted for sh.
function M.q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.write_file(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

-- What cmd prints on stdout, trailing white space removed.
function M.capture(cmd)
  local p = assert(io.popen(cmd, "r"))
  local s = p:read("a")
  p:close()
  return (s:gsub("%s+$", ""))
end

function M.median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

function M.minmax(xs)
  local lo, hi = math.huge, -math.huge
  for _, x in ipairs(xs) do lo, hi = math.min(lo, x), math.max(hi, x) end
  return lo, hi
end

-- The values of `field` in a list of runs.
function M.col(runs, field)
  local xs = {}
  for i, r in ipairs(runs) do xs[i] = r[field] end
  return xs
end

-- Seconds as milliseconds with three significant figures (or so), "" for nil.
function M.ms(x)
  if x == nil then return "" end
  x = x * 1000
  if x < 10 then return format("%.2f", x) end
  if x < 100 then return format("%.1f", x) end
  return format("%.0f", x)
end

-- KB as MB, "" for nil.
function M.mb(kb) return kb and format("%.1f", kb / 1024) or "" end

return M
