-- The check of a call's arguments against its operation's entry in the generated table
-- (lua/telnyx/resources.lua and lua/telnyx/api/; the format is scripts/build/TABLE.md, where an
-- absent key means "not stated"), made before anything is built or sent; and the "did you mean"
-- suggestion shared with the unknown-name errors of the Client's and Resources' __index.
--
-- Loaded by src/resource.c at the first call (or the first unknown name), never by
-- `require "telnyx"`: a script that makes no call pays nothing. Each operation's names are
-- indexed once, on its first call, so a call then costs a table lookup per argument.
--
-- Errors are plain one-line strings raised at level 0, as the required-field errors always were:
-- "<resource>:<method>: <what is wrong>[ (did you mean <name>?)]". Values are never echoed
-- except enum values and numbers, so a secret field cannot leak into a message.

local M = {}

M.null = nil -- telnyx.null, set by src/resource.c when it loads this module

---------------------------------------------------------------------------
-- Suggestions
---------------------------------------------------------------------------

-- Damerau-Levenshtein distance (optimal string alignment), case-insensitive.
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  if a == b then return 0 end
  if math.abs(la - lb) > 2 then return 3 end
  local prev2, prev, cur = {}, {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur = { [0] = i }
    local ca = a:byte(i)
    for j = 1, lb do
      local cb = b:byte(j)
      local cost = ca == cb and 0 or 1
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if i > 1 and j > 1 and ca == b:byte(j - 1) and a:byte(i - 1) == cb then
        d = math.min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev = prev, cur
  end
  return prev[lb]
end
M.distance = distance

-- The valid name nearest to `name` among `candidates` (an array of strings): within a
-- Damerau-Levenshtein distance of 2 (1 for names of 3 characters or fewer), else the one that
-- `name` is a prefix of, or that is a prefix of `name` (3 characters at least); nil if none.
function M.suggest(name, candidates)
  if type(name) ~= "string" or name == "" then return nil end
  local best, best_d, limit = nil, math.huge, #name <= 3 and 1 or 2
  for _, c in ipairs(candidates) do
    local d = distance(name, c)
    if d <= limit and (d < best_d or (d == best_d and c < best)) then best, best_d = c, d end
  end
  if best then return best end
  local lname = name:lower()
  for _, c in ipairs(candidates) do
    local lc = c:lower()
    local short = #lname < #lc and lname or lc
    if #short >= 3 and (lc:sub(1, #lname) == lname or lname:sub(1, #lc) == lc) then
      if best == nil or #c < #best or (#c == #best and c < best) then best = c end
    end
  end
  return best
end

local function did_you_mean(name, candidates)
  local s = M.suggest(name, candidates)
  return s and (" (did you mean " .. s .. "?)") or ""
end

local function sorted_keys(t)
  local out = {}
  for k in pairs(t) do
    if type(k) == "string" then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

-- __index of a Client (`where` is nil) or a Resource found no `key`: raises, naming it.
-- `names` is a table whose string keys (or array of strings) are the valid names there.
function M.index_error(where, key, names)
  local list = {}
  for k, v in pairs(names) do
    local n = type(k) == "string" and k or v
    if type(n) == "string" and not n:find(".", 1, true) then list[#list + 1] = n end
  end
  table.sort(list)
  -- an operation of the spec that is deliberately not bound: say why (WebSocket only)
  local ok, index = pcall(require, "telnyx.resources")
  for _, u in ipairs(ok and type(index) == "table" and index.unbound or {}) do
    if u.resource == where and u.method == key then
      error(("%s: '%s' is not bound: %s"):format(where, key, u.reason), 0)
    end
  end
  if where == nil then
    error(("client: unknown resource or method '%s'%s"):format(key, did_you_mean(key, list)), 0)
  end
  error(("%s: unknown method or resource '%s'%s"):format(where, key, did_you_mean(key, list)), 0)
end

---------------------------------------------------------------------------
-- ECMAScript patterns: the subset the spec uses, matched by a small backtracking matcher.
-- A pattern using anything else (lookaround, backreferences, \b, \p, \u...) is not checked.
---------------------------------------------------------------------------

local CLASS = {
  d = function(c) return c >= 48 and c <= 57 end,
  w = function(c) return (c >= 48 and c <= 57) or (c >= 65 and c <= 90) or (c >= 97 and c <= 122) or c == 95 end,
  s = function(c) return c == 32 or (c >= 9 and c <= 13) end,
}
local CONTROL = { t = 9, n = 10, v = 11, f = 12, r = 13 }
-- Escapes of punctuation that stand for the character itself.
local LITERAL_ESCAPE = "[%^%$%\\%.%*%+%?%(%)%[%]%{%}%|%/%-]"

-- Parses the pattern into {alts = {seq, ...}} where a seq is an array of nodes
-- {test = fn(byte) | alts = ... | anchor = "^"/"$", min =, max =}; nil when outside the subset.
local function parse_pattern(p)
  local pos, n = 1, #p
  local wide = false -- whether some atom can match a non-ASCII character
  local parse_alt

  local function peek() return p:sub(pos, pos) end

  local function escape_test(e, in_class)
    if CLASS[e] then return CLASS[e] end
    if CLASS[e:lower()] and not in_class then
      local f = CLASS[e:lower()]
      wide = true
      return function(c) return not f(c) end
    end
    if CONTROL[e] then
      local b = CONTROL[e]
      return nil, b
    end
    if e:match(LITERAL_ESCAPE) or (in_class and e == "-") then return nil, e:byte() end
    return false
  end

  local function parse_class()
    local negate = false
    if peek() == "^" then negate, pos = true, pos + 1 end
    if peek() == "]" then return nil end -- [] and [^]: not in the subset
    local tests, ranges = {}, {}
    while pos <= n and peek() ~= "]" do
      local lo
      local ch = peek()
      if ch == "\\" then
        local t, b = escape_test(p:sub(pos + 1, pos + 1), true)
        if t == false then return nil end
        pos = pos + 2
        if t then tests[#tests + 1] = t else lo = b end
      else
        lo, pos = ch:byte(), pos + 1
      end
      if lo then
        local hi = lo
        if peek() == "-" and p:sub(pos + 1, pos + 1) ~= "]" and pos + 1 <= n then
          local c2 = p:sub(pos + 1, pos + 1)
          if c2 == "\\" then
            local t, b = escape_test(p:sub(pos + 2, pos + 2), true)
            if not b then return nil end
            hi, pos = b, pos + 3
          else
            hi, pos = c2:byte(), pos + 2
          end
          if hi < lo then return nil end
        end
        if lo > 127 or hi > 127 then return nil end
        ranges[#ranges + 1] = { lo, hi }
      end
    end
    if peek() ~= "]" then return nil end
    pos = pos + 1
    if negate then wide = true end
    return function(c)
      local hit = false
      for _, r in ipairs(ranges) do
        if c >= r[1] and c <= r[2] then hit = true break end
      end
      if not hit then
        for _, t in ipairs(tests) do
          if t(c) then hit = true break end
        end
      end
      return hit ~= negate
    end
  end

  local function parse_atom()
    local ch = peek()
    if ch == "(" then
      pos = pos + 1
      if peek() == "?" then
        if p:sub(pos, pos + 1) ~= "?:" then return nil end
        pos = pos + 2
      end
      local alts = parse_alt()
      if not alts or peek() ~= ")" then return nil end
      pos = pos + 1
      return { alts = alts }
    elseif ch == "[" then
      pos = pos + 1
      local t = parse_class()
      return t and { test = t }
    elseif ch == "." then
      pos, wide = pos + 1, true
      return { test = function(c) return c ~= 10 and c ~= 13 end }
    elseif ch == "^" or ch == "$" then
      pos = pos + 1
      return { anchor = ch }
    elseif ch == "\\" then
      local t, b = escape_test(p:sub(pos + 1, pos + 1), false)
      if t == false then return nil end
      pos = pos + 2
      if t then return { test = t } end
      return { test = function(c) return c == b end }
    elseif ch == "*" or ch == "+" or ch == "?" or ch == "{" or ch == ")" or ch == "]" or ch == "}" then
      return nil -- a quantifier with nothing before it, or a stray bracket
    end
    local b = ch:byte()
    if b > 127 then return nil end
    pos = pos + 1
    return { test = function(c) return c == b end }
  end

  local function parse_quant(node)
    local ch = peek()
    local min, max
    if ch == "*" then min, max, pos = 0, math.huge, pos + 1
    elseif ch == "+" then min, max, pos = 1, math.huge, pos + 1
    elseif ch == "?" then min, max, pos = 0, 1, pos + 1
    elseif ch == "{" then
      local a, comma, b, rest = p:match("^{(%d+)(,?)(%d*)}()", pos)
      if not a then return nil end
      min = tonumber(a)
      max = comma == "" and min or (b == "" and math.huge or tonumber(b))
      if max < min then return nil end
      pos = rest
    else
      node.min, node.max = 1, 1
      return node
    end
    if node.anchor then return nil end
    if peek() == "?" then pos = pos + 1 end -- lazy: the same strings match
    node.min, node.max = min, max
    return node
  end

  local function parse_seq()
    local seq = {}
    while pos <= n and peek() ~= "|" and peek() ~= ")" do
      local atom = parse_atom()
      if not atom then return nil end
      atom = parse_quant(atom)
      if not atom then return nil end
      seq[#seq + 1] = atom
    end
    return seq
  end

  function parse_alt()
    local alts = {}
    repeat
      if peek() == "|" then pos = pos + 1 end
      local seq = parse_seq()
      if not seq then return nil end
      alts[#alts + 1] = seq
    until peek() ~= "|"
    return alts
  end

  local alts = parse_alt()
  if not alts or pos <= n then return nil end
  return { alts = alts, wide = wide }
end

local STEP_LIMIT = 100000 -- a pattern that backtracks more than this is not decided: accepted
local steps

local match_seq

local function match_one(node, s, pos, k)
  steps = steps + 1
  if steps > STEP_LIMIT then error("step limit") end
  if node.test then
    local c = s:byte(pos)
    if c and node.test(c) then return k(pos + 1) end
    return false
  elseif node.anchor == "^" then
    return pos == 1 and k(pos)
  elseif node.anchor == "$" then
    return pos == #s + 1 and k(pos)
  end
  for _, seq in ipairs(node.alts) do
    if match_seq(seq, 1, s, pos, k) then return true end
  end
  return false
end

local function match_rep(node, count, s, pos, k)
  if count < node.max then
    local more = match_one(node, s, pos, function(p)
      if p == pos and count >= node.min then return false end -- empty: no use repeating it
      return match_rep(node, count + 1, s, p, k)
    end)
    if more then return true end
  end
  return count >= node.min and k(pos)
end

function match_seq(seq, i, s, pos, k)
  if i > #seq then return k(pos) end
  return match_rep(seq[i], 0, s, pos, function(p) return match_seq(seq, i + 1, s, p, k) end)
end

local compiled = {} -- pattern -> parsed, or false when outside the subset
M.unchecked_patterns = {} -- pattern -> true: met, not translatable, so not checked

function M.compile(pattern)
  local c = compiled[pattern]
  if c == nil then
    c = parse_pattern(pattern) or false
    compiled[pattern] = c
    if not c then M.unchecked_patterns[pattern] = true end
  end
  return c or nil
end

-- true / false, or nil when it cannot be decided faithfully (then the value is accepted).
function M.pattern_matches(pattern, s)
  local re = M.compile(pattern)
  if not re then return nil end
  -- Bytes against UTF-16 units: only the same answer when no atom can match a non-ASCII one.
  if re.wide and s:find("[\128-\255]") then return nil end
  local top = { alts = re.alts, min = 1, max = 1 }
  steps = 0
  local ok, hit = pcall(function()
    for start = 1, #s + 1 do
      if match_one(top, s, start, function() return true end) then return true end
    end
    return false
  end)
  if not ok then return nil end -- over the step limit, or too deep for the stack: undecided
  return hit
end

---------------------------------------------------------------------------
-- Values against a <param>
---------------------------------------------------------------------------

local A_TYPE = {
  string = "a string", integer = "an integer", number = "a number", boolean = "a boolean",
  array = "an array", object = "an object", null = "null",
}

-- The type words of a type string ("string|null") as a set and a list, and the items <param>
-- of the old "array<x>" form; nil for a type we do not know (not checked).
local function parse_types(t)
  if type(t) ~= "string" or t == "" then return nil end
  local set, list, items = {}, {}, nil
  for word in t:gmatch("[^|]+") do
    local inner = word:match("^array<(.*)>$")
    if inner then word, items = "array", { type = inner } end
    if not A_TYPE[word] then return nil end
    set[word] = true
    list[#list + 1] = word
  end
  return { set = set, list = list, items = items }
end

-- Parsed once per type string: every call checks its values, and the API has few type strings.
local parsed_types = setmetatable({}, { __index = function(cache, t)
  local v = parse_types(t) or false
  cache[t] = v
  return v
end })

-- The type words of a <param> as a set, and the items <param> of the old "array<x>" form.
local function types_of(param)
  local t = param.type
  local p = t ~= nil and parsed_types[t]
  if not p then return nil end
  return p.set, p.list, p.items
end

local function is_sequence(v)
  local n = 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n == #v
end

-- What a Lua value is, in the spec's words ("empty" is a table that can be either).
local function kind_of(v)
  local t = type(v)
  if t == "number" then
    if math.type(v) == "integer" then return "integer" end
    return "number"
  elseif t == "userdata" and v == M.null then
    return "null"
  elseif t == "table" then
    local mt = getmetatable(v)
    if type(mt) == "table" and rawget(mt, "__name") == "telnyx.array" then return "array" end
    if next(v) == nil then return "empty" end
    return is_sequence(v) and "array" or "object"
  end
  return t
end

local function fits(set, kind, v)
  if set[kind] then return true end
  if kind == "integer" then return set.number end
  if kind == "number" then return set.integer and v == math.floor(v) and v == v and v ~= math.huge and v ~= -math.huge end
  if kind == "empty" then return set.array or set.object end
  return false
end

local GOT = {
  string = "a string", integer = "an integer", number = "a number with a fraction",
  boolean = "a boolean", null = "null", array = "an array", object = "a table with named keys",
  ["function"] = "a function", userdata = "a userdata", thread = "a thread",
}

local function expected_text(list)
  local words = {}
  for i, w in ipairs(list) do words[i] = A_TYPE[w] end
  return table.concat(words, " or ")
end

local function enum_text(enum)
  local shown = {}
  for i = 1, math.min(#enum, 12) do shown[i] = tostring(enum[i]) end
  local s = table.concat(shown, ", ")
  if #enum > 12 then s = s .. ", ... (" .. #enum .. " values)" end
  return s
end

local check_value

-- In a query every value is text: a string param takes numbers and booleans (sent as words), and
-- a number, integer or boolean param takes the string that says one. Returns the value to check.
local function query_value(set, v)
  local kind = kind_of(v)
  if set.string and (kind == "integer" or kind == "number" or kind == "boolean") then return tostring(v) end
  if kind == "string" then
    if (set.integer or set.number) and not set.string then
      local n = math.tointeger(tonumber(v)) or tonumber(v)
      if n and v:match("^%s*[-+]?[%d.]+[eE]?[-+]?%d*%s*$") then return n end
    end
    if set.boolean and not set.string and (v == "true" or v == "false") then return v == "true" end
  end
  return v
end

local function check_enum(ctx, param, name, v)
  local enum = param.enum
  if type(enum) ~= "table" or #enum == 0 or v == M.null then return end
  for _, e in ipairs(enum) do
    if e == v then return end
  end
  -- A list's sort takes the enum's fields, each also with "-" for descending.
  local is_sort = ctx.where == "query" and name == "sort"
  if is_sort and type(v) == "string" and v:sub(1, 1) == "-" then
    for _, e in ipairs(enum) do
      if e == v:sub(2) then return end
    end
  end
  local shown = type(v) == "string" and ("'" .. v .. "'") or tostring(v)
  local names = {}
  for _, e in ipairs(enum) do names[#names + 1] = tostring(e) end
  ctx.fail(("%s must be one of %s%s; got %s%s"):format(name, enum_text(enum),
    is_sort and " (a leading - sorts descending)" or "", shown,
    type(v) == "string" and did_you_mean(v, names) or ""))
end

local function check_number(ctx, param, name, v)
  local min, max = param.minimum, param.maximum
  local xmin, xmax = param.exclusive_minimum, param.exclusive_maximum
  if type(xmin) == "number" and not (v > xmin) then
    ctx.fail(("%s must be greater than %s, got %s"):format(name, xmin, v))
  end
  if type(xmax) == "number" and not (v < xmax) then
    ctx.fail(("%s must be less than %s, got %s"):format(name, xmax, v))
  end
  if type(min) == "number" then
    if xmin == true and not (v > min) then
      ctx.fail(("%s must be greater than %s, got %s"):format(name, min, v))
    elseif not (v >= min) then
      ctx.fail(("%s must be at least %s, got %s"):format(name, min, v))
    end
  end
  if type(max) == "number" then
    if xmax == true and not (v < max) then
      ctx.fail(("%s must be less than %s, got %s"):format(name, max, v))
    elseif not (v <= max) then
      ctx.fail(("%s must be at most %s, got %s"):format(name, max, v))
    end
  end
end

local function check_length(ctx, param, name, len, unit)
  local min, max = param.min_length, param.max_length
  if type(min) == "number" and len < min then
    ctx.fail(("%s must be at least %d %s long, got %d"):format(name, min, unit, len))
  end
  if type(max) == "number" and len > max then
    ctx.fail(("%s must be at most %d %s long, got %d"):format(name, max, unit, len))
  end
end

local function check_count(ctx, param, name, n)
  local min, max = param.min_items, param.max_items
  if type(min) == "number" and n < min then
    ctx.fail(("%s must have at least %d item%s, got %d"):format(name, min, min == 1 and "" or "s", n))
  end
  if type(max) == "number" and n > max then
    ctx.fail(("%s must have at most %d item%s, got %d"):format(name, max, max == 1 and "" or "s", n))
  end
end

-- A nested name as the user reads it: "settings.mode" in a body, "filter[ip_address]" in a query.
local function child_name(ctx, name, key)
  if ctx.where == "query" then return name .. "[" .. key .. "]" end
  return name .. "." .. key
end

-- Checks the keys and fields of an object value against param.fields.
local function check_object(ctx, param, name, v)
  local fields = param.fields
  if type(fields) ~= "table" then return end
  local index = ctx.index(fields)
  if not param.additional then
    for k in pairs(v) do
      if index.by_name[k] == nil then
        local key = tostring(k)
        ctx.fail(("unknown %s '%s'%s"):format(ctx.where == "query" and "query parameter" or "field",
          child_name(ctx, name, key), did_you_mean(key, index.names)))
      end
    end
  end
  for _, f in ipairs(fields) do
    local fv = v[f.name]
    if fv ~= nil then
      check_value(ctx, f, child_name(ctx, name, f.name), fv)
    elseif f.required == true and not ctx.partial then
      ctx.fail(("missing required field '%s'"):format(child_name(ctx, name, f.name)))
    end
  end
end

-- Checks one value against its <param>; raises through ctx.fail.
function check_value(ctx, param, name, v)
  if param.format == "binary" then return end -- file parts: their binding decides
  local set, list, items = types_of(param)
  if set and ctx.where == "query" then v = query_value(set, v) end
  local kind = kind_of(v)
  if set and not fits(set, kind, v) then
    ctx.fail(("%s must be %s, got %s"):format(name, expected_text(list), GOT[kind] or kind))
  end
  if kind == "null" then return end
  check_enum(ctx, param, name, v)
  if kind == "integer" or kind == "number" then
    check_number(ctx, param, name, v)
  elseif kind == "string" then
    check_length(ctx, param, name, utf8.len(v) or #v, "characters")
    local pattern = param.pattern
    if type(pattern) == "string" and M.pattern_matches(pattern, v) == false then
      ctx.fail(("%s must match the pattern %s"):format(name, pattern))
    end
  elseif kind == "array" or (kind == "empty" and set and set.array) then
    check_count(ctx, param, name, #v)
    items = param.items or items
    if type(items) == "table" then
      for i = 1, #v do check_value(ctx, items, ("%s[%d]"):format(name, i), v[i]) end
    end
  elseif kind == "object" or kind == "empty" then
    check_object(ctx, param, name, v)
  end
end

---------------------------------------------------------------------------
-- An operation's names, indexed on its first call
---------------------------------------------------------------------------

local index_cache = setmetatable({}, { __mode = "k" }) -- fields -> {by_name = {[name] = param}, names}

local function index_fields(fields)
  local index = index_cache[fields]
  if index then return index end
  index = { by_name = {}, names = {} }
  for _, f in ipairs(fields) do
    if type(f.name) == "string" then
      index.by_name[f.name] = f
      index.names[#index.names + 1] = f.name
    end
  end
  table.sort(index.names)
  index_cache[fields] = index
  return index
end

-- The query's wire names "a[b][c]" as a tree: node = {param =, children = {[seg] = node}, names}.
local function query_tree(query)
  local root = { children = {} }
  for _, q in ipairs(query) do
    if type(q.name) == "string" then
      local node = root
      local first, rest = q.name:match("^([^%[]+)(.*)$")
      local segs = { first or q.name }
      for seg in (rest or ""):gmatch("%[([^%]]*)%]") do segs[#segs + 1] = seg end
      for _, seg in ipairs(segs) do
        node.children = node.children or {}
        local child = node.children[seg]
        if not child then
          child = {}
          node.children[seg] = child
        end
        node = child
      end
      node.param = q
    end
  end
  local function finish(node)
    if node.children then
      node.names = sorted_keys(node.children)
      for _, child in pairs(node.children) do finish(child) end
    end
  end
  finish(root)
  -- flat wire names too, so ["filter[ip_address]"] = ... is found in one lookup
  root.flat = {}
  for _, q in ipairs(query) do
    if type(q.name) == "string" then root.flat[q.name] = q end
  end
  return root
end

local op_cache = setmetatable({}, { __mode = "k" })

local function header_key(name) return (name:lower():gsub("-", "_")) end

local function compile_op(op)
  local c = op_cache[op]
  if c then return c end
  c = {}
  local body = op.body
  local whole = require("telnyx.operations").whole_body(op)
  if whole then
    c.body_whole = whole
    if body.type == "array" then
      c.body_param = { type = "array", items = body.items, min_items = body.min_items, max_items = body.max_items }
    end
  elseif type(body) == "table" and type(body.fields) == "table" and (body.type == nil or body.type == "object") then
    c.body_fields = index_fields(body.fields)
    c.body_open = body.additional == true
  elseif type(body) == "table" then
    c.body_open = true -- an object whose fields the spec does not state: any
  end
  if type(op.query) == "table" and #op.query > 0 then c.query = query_tree(op.query) end
  -- Path parameters and headers other than the positional one may come as named arguments.
  c.other = {}
  for _, p in ipairs(type(op.path_params) == "table" and op.path_params or {}) do
    if p ~= op.positional then c.other[p] = { name = p, type = "string" } end
  end
  for _, h in ipairs(type(op.headers) == "table" and op.headers or {}) do
    if type(h.name) == "string" then
      c.other[h.name] = h
      c.other[header_key(h.name)] = h
    end
  end
  c.list = op.pagination ~= nil or op.method == "list"
  -- The required query parameters, but a list's page parameter, which is the pager's to set.
  local kind = op.pagination and require("telnyx.pagination")[op.pagination]
  c.required_query = {}
  for _, q in ipairs(type(op.query) == "table" and op.query or {}) do
    if q.required == true and not (kind and q.name == kind.param) then
      c.required_query[#c.required_query + 1] = q.name
    end
  end
  local names = {}
  for _, n in ipairs(c.body_fields and c.body_fields.names or {}) do names[#names + 1] = n end
  if c.query then
    for _, n in ipairs(c.query.names or {}) do names[#names + 1] = n end
    for n in pairs(c.query.flat) do
      if n:find("[", 1, true) then names[#names + 1] = n end
    end
  end
  for n in pairs(c.other) do names[#names + 1] = n end
  if c.body_whole then names[#names + 1] = "body" end
  table.sort(names)
  c.names = names
  -- What the checks of a call share, made once per operation (`where` is set per argument).
  local opname = tostring(op.resource) .. ":" .. tostring(op.method)
  -- A PATCH changes what it names: a nested object's required fields are the stored
  -- record's, not the call's (the top-level required ones are still checked).
  c.ctx = { c = c, where = "body", index = index_fields, partial = op.http_method == "PATCH",
            fail = function(msg) error(opname .. ": " .. msg, 0) end }
  op_cache[op] = c
  return c
end

-- One query parameter (or a table of them) under the wire name `name`, at tree node `node`.
local function check_query(ctx, node, name, key, v, level_names)
  if node == nil then
    if name == "sort" and ctx.c.list then ctx.fail("unknown query parameter 'sort' (this list takes no sort)") end
    ctx.fail(("unknown query parameter '%s'%s"):format(name, did_you_mean(key, level_names)))
  end
  if node.param == nil and node.children == nil then
    ctx.fail(("unknown query parameter '%s'%s"):format(name, did_you_mean(node.key, node.names)))
  end
  local kind = kind_of(v)
  if node.children and (kind == "object" or (kind == "empty" and not node.param)) then
    if node.param and node.param.type == "object" then
      return check_value(ctx, node.param, name, v)
    end
    for k, sub in pairs(v) do
      local sk = tostring(k)
      check_query(ctx, node.children[sk], name .. "[" .. sk .. "]", sk, sub, node.names)
    end
    return
  end
  if node.param then return check_value(ctx, node.param, name, v) end
  ctx.fail(("%s must be a table of %s, got %s"):format(name, table.concat(node.names, ", "), GOT[kind] or kind))
end

-- The node of a flat wire name ("filter[created_at]"), or nil.
-- Below a parameter of type object ("filter" with fields), the segments name its fields: the
-- node is then {param = field}, or {names = the valid ones} for a segment that names none.
local function query_node(tree, name)
  local first, rest = name:match("^([^%[]+)(.*)$")
  local node = tree.children[first or name]
  for seg in (rest or ""):gmatch("%[([^%]]*)%]") do
    if node and not node.children and node.param and type(node.param.fields) == "table" then
      local index = index_fields(node.param.fields)
      local field = index.by_name[seg]
      if field == nil and not node.param.additional then return { names = index.names, key = seg } end
      node = { param = field or {} }
    else
      node = node and node.children and node.children[seg]
    end
  end
  return node
end

-- Whether the query parameter of wire name `wire` ("start_date", "filter[date][gte]") is in
-- params, flat (params["filter[date][gte]"]) or nested (params.filter.date.gte).
local function query_given(params, wire)
  if params == nil then return false end
  if params[wire] ~= nil then return true end
  local v = params[wire:match("^[^%[]+")]
  for seg in wire:gmatch("%[([^%]]*)%]") do
    if type(v) ~= "table" then return false end
    v = v[seg]
  end
  return v ~= nil
end

-- check(op, params): raises when `params` (the call's named arguments, or nil) break the spec.
function M.check(op, params)
  local c = compile_op(op)
  local ctx = c.ctx
  if params ~= nil and type(params) ~= "table" then return end -- a raw body: its binding decides
  if params ~= nil then
    for k, v in pairs(params) do
      if type(k) ~= "string" then
        ctx.fail(("params must have named keys, got the key %s (%s)%s"):format(tostring(k), type(k),
          c.body_whole and "; the body (" .. c.body_whole .. ") goes whole in params.body" or ""))
      end
      local field = c.body_fields and c.body_fields.by_name[k]
      if k == "body" and c.body_whole then
        -- an array is checked as the field it would be; raw bytes by the binding (src/body.c)
        if c.body_param then
          ctx.where = "body"
          check_value(ctx, c.body_param, k, v)
        end
      elseif field then
        ctx.where = "body"
        check_value(ctx, field, k, v)
      elseif c.query and (c.query.children[k] or c.query.flat[k] or query_node(c.query, k)) then
        ctx.where = "query"
        local node = c.query.children[k] or query_node(c.query, k)
        check_query(ctx, node, k, k, v, c.names)
      elseif c.other[k] then
        ctx.where = "other"
        check_value(ctx, c.other[k], k, v)
      elseif not c.body_open then
        if k == "sort" and c.list then ctx.fail("unknown query parameter 'sort' (this list takes no sort)") end
        local what = "parameter"
        if c.body_fields and not c.query then what = "body field" end
        if c.query and not c.body_fields then what = "query parameter" end
        ctx.fail(("unknown %s '%s'%s"):format(what, k, did_you_mean(k, c.names)))
      end
    end
  end
  -- Required body fields and query parameters last, so a misspelled one is reported as the
  -- misspelling.
  local body = op.body
  if c.body_whole and body.optional == false and (params == nil or params.body == nil) then
    ctx.fail(("missing the request body (%s): pass it as params.body%s"):format(c.body_whole,
      body.content_type == "application/octet-stream" and ", or in place of params" or ""))
  end
  if type(body) == "table" and type(body.required) == "table" then
    for _, f in ipairs(body.required) do
      if params == nil or params[f] == nil then ctx.fail(("missing required field '%s'"):format(f)) end
    end
  end
  for _, name in ipairs(c.required_query) do
    if not query_given(params, name) then ctx.fail(("missing required query parameter '%s'"):format(name)) end
  end
end

return M
