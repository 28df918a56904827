-- Iteration of telnyx.Pager (the userdata is made in src/pager.c), for every pagination kind of
-- the API (scripts/build/SOURCES.md). One page is held at a time: page N+1 is fetched when the
-- items of page N are used up, and iteration ends on the kind's stop rule or an empty page.
-- Fetches go through client:request, which yields inside a telnyx.map task and blocks outside.
-- Servers are not trusted to page honestly: a next-page value that does not advance (a page
-- number that does not grow, a cursor seen again) ends the walk with an error instead of
-- fetching the same pages forever, and no server number (total_pages, counts) sizes any work.

local state_of -- set by install: pager -> its state table
local bad_page -- set by install: (message, url) raises an APIStatusError

local KINDS = require "telnyx.pagination"

-- "page[number]" -> "page", "number"; "cursor" -> nil
local function split_param(name)
  return name:match("^([^%[]+)%[([^%]]+)%]$")
end

-- The value of a query parameter in params, given nested ({page = {number = 2}}) or flat.
local function get_param(params, name)
  local top, sub = split_param(name)
  if top and type(params[top]) == "table" and params[top][sub] ~= nil then return params[top][sub] end
  return params[name]
end

-- A copy of params with the query parameter `name` set to value (nested when bracketed, so that
-- a nested and a flat spelling never both reach the query).
local function with_param(params, name, value)
  local query = {}
  for k, v in pairs(params) do query[k] = v end
  local top, sub = split_param(name)
  if top then
    local nested = {}
    if type(query[top]) == "table" then
      for k, v in pairs(query[top]) do nested[k] = v end
    end
    for k, v in pairs(query) do -- flat spellings of the same group move into it
      if type(k) == "string" and k:sub(1, #top + 1) == top .. "[" then
        local inner = k:match("^[^%[]+%[([^%]]+)%]$")
        if inner then
          nested[inner], query[k] = v, nil
        end
      end
    end
    nested[sub] = value
    query[top] = nested
  else
    query[name] = value
  end
  return query
end

local function check_open(state)
  if state.closed then error("attempt to use a closed telnyx.Pager", 3) end
end

local function init(state)
  if state.kind_spec then return end
  local kind = KINDS[state.kind or "DefaultFlatPagination"]
  if kind == nil then error("unknown pagination kind " .. tostring(state.kind), 4) end
  local params = state.params or {}
  local top = split_param(kind.param)
  if top and params[top] ~= nil and type(params[top]) ~= "table" then
    error(top .. " must be a table such as {number = 1, size = 250}", 4)
  end
  if kind.number then
    local number = get_param(params, kind.param)
    if number ~= nil and (math.type(number) ~= "integer" or number < 1) then
      error(kind.param .. " must be a positive integer", 4)
    end
    state.next_value = number or 1
  else
    state.next_value = get_param(params, kind.param) -- the caller's cursor, if any
  end
  if top == "page" then
    local size = get_param(params, "page[size]")
    if size ~= nil and (math.type(size) ~= "integer" or size < 1) then
      error("page[size] must be a positive integer", 4)
    end
  end
  state.kind_spec, state.seen = kind, 0
end

local function url_of(state)
  return state.client.base_url .. state.path
end

-- An integer a server sent as meta.page_number (or nil when absent); anything else is an error.
local function page_number(state, meta)
  local n = meta.page_number
  if n == nil then return nil end
  local i = math.tointeger(n)
  if i == nil or i < 1 then
    bad_page("list response has a meta.page_number that is not a page number: " .. tostring(n), url_of(state))
  end
  return i
end

-- A count a server sent (total_pages, total_records, totalRecords), or nil when absent.
local function count_of(state, value, field)
  if value == nil then return nil end
  if type(value) ~= "number" or value ~= value or value < 0 then
    bad_page("list response has a " .. field .. " that is not a count: " .. tostring(value), url_of(state))
  end
  return value
end

-- The next cursor at `path` in the page, nil at the end. A cursor seen before (checked in
-- constant memory: Brent's cycle detection, a saved cursor that moves at powers of two) is an
-- error: the walk would go round forever.
local function next_cursor(state, page, path)
  local v = page
  for _, key in ipairs(path) do
    if type(v) ~= "table" then return nil end
    v = v[key]
  end
  -- a JSON null cursor (telnyx.null) ends the walk as an absent one does
  if v == nil or v == "" or v == require("telnyx").null then return nil end
  local field = table.concat(path, ".")
  if type(v) ~= "string" and type(v) ~= "number" then
    bad_page("list response has a " .. field .. " that is not a cursor", url_of(state))
  end
  v = tostring(v)
  if v == state.next_value or v == state.saved_cursor then
    bad_page("list response repeats a page: " .. field .. " did not advance (the server sent a cursor "
             .. "it sent before)", url_of(state))
  end
  state.steps = (state.steps or 0) + 1
  if state.steps >= (state.power or 1) then
    state.saved_cursor, state.power, state.steps = v, (state.power or 1) * 2, 0
  end
  return v
end

-- The items of a value in a canonical text (sorted keys): equal texts, equal values. An item
-- with a scalar id is known by it.
local function canonical(v, out, top)
  if type(v) ~= "table" then
    out[#out + 1] = type(v) .. ":" .. tostring(v)
    return
  end
  if top and (type(v.id) == "string" or math.type(v.id) == "integer") then
    out[#out + 1] = "id:" .. type(v.id) .. ":" .. v.id
    return
  end
  local keys, names = {}, {}
  for k in pairs(v) do
    keys[#keys + 1] = k
    names[k] = type(k) .. ":" .. tostring(k)
  end
  table.sort(keys, function(a, b) return names[a] < names[b] end)
  out[#out + 1] = "{"
  for _, k in ipairs(keys) do
    out[#out + 1] = names[k]
    canonical(v[k], out, false)
  end
  out[#out + 1] = "}"
end

-- A page's fingerprint: its length and its first and last items (constant memory per page).
local function fingerprint(items)
  local out = { tostring(#items) }
  canonical(items[1], out, true)
  canonical(items[#items], out, true)
  return table.concat(out, "\0")
end

-- Decides from a fetched page what to ask for next (state.next_value) or that the walk is done.
local function advance(state, page, items)
  local kind = state.kind_spec
  if #items == 0 then
    state.finished = true
    return
  end
  state.seen = state.seen + #items
  if kind.cursor then
    local cursor = next_cursor(state, page, kind.cursor)
    if cursor == nil then state.finished = true end
    state.next_value = cursor
  elseif kind.number == "meta" then
    local meta = type(page.meta) == "table" and page.meta or {}
    local number = page_number(state, meta) or state.next_value
    local total = count_of(state, meta.total_pages, "meta.total_pages")
    if state.last_number ~= nil and number <= state.last_number then
      bad_page(string.format("list response repeats a page: meta.page_number did not advance "
                             .. "(%d after %d)", number, state.last_number), url_of(state))
    end
    state.last_number = number
    if total ~= nil and number >= total then state.finished = true end
    state.next_value = number + 1
  else
    local sent = state.next_value
    -- The number is ours, not the server's: a server that ignores it answers the same pages
    -- again, and only the items can tell. Compared with the previous page, and (Brent's way,
    -- as for cursors) with one saved at powers of two, so a cycle of pages ends too.
    local fp = fingerprint(items)
    if fp == state.last_fingerprint or fp == state.saved_fingerprint then
      bad_page(string.format("list response repeats a page: page %d has the same items as an "
                             .. "earlier page (the server ignored %s)", sent, kind.param), url_of(state))
    end
    state.last_fingerprint, state.steps = fp, (state.steps or 0) + 1
    if state.steps >= (state.power or 1) then
      state.saved_fingerprint, state.power, state.steps = fp, (state.power or 1) * 2, 0
    end
    local until_number = kind.until_number and count_of(state, page[kind.until_number], kind.until_number)
    local until_seen = kind.until_seen and count_of(state, page[kind.until_seen], kind.until_seen)
    if (until_number and sent >= until_number) or (until_seen and state.seen >= until_seen) then
      state.finished = true
    end
    state.next_value = sent + 1
  end
end

-- The request's headers: the operation's declared ones given in params, then opts.headers.
local function headers_of(state, opts)
  if state.headers == nil then return opts.headers end
  local h = {}
  for k, v in pairs(state.headers) do h[k] = v end
  for k, v in pairs(opts.headers or {}) do h[k] = v end
  return h
end

-- Fetches the next page into state.page; returns it, or nil when there are no more.
local function fetch(state)
  init(state)
  if state.finished then return nil end
  local kind, opts = state.kind_spec, state.opts or {}
  local query = state.params or {}
  if state.next_value ~= nil then query = with_param(query, kind.param, state.next_value) end
  local page = state.client:request(state.http_method or "GET", state.path, {
    query = query, body = state.body, headers = headers_of(state, opts),
    timeout = opts.timeout, max_retries = opts.max_retries,
    extra_query = opts.extra_query, extra_body = opts.extra_body, extra_headers = opts.extra_headers,
  })
  local items
  if kind.items then
    items = type(page) == "table" and page[kind.items]
  else
    items = page
  end
  if type(items) ~= "table" then
    bad_page("list response has no " .. (kind.items and (kind.items .. " array") or "array"), url_of(state))
  end
  state.pages_fetched = (state.pages_fetched or 0) + 1
  advance(state, page, items)
  state.page, state.items, state.index = page, items, 0
  if #items == 0 then return nil end
  return page
end

-- pager -> its state, so that taking an item (next_item runs once per item) costs no call
-- into C. Weak keys: a pager that is collected leaves it.
local states = setmetatable({}, { __mode = "k" })

-- The next item, or nil at the end.
local function next_item(pager)
  local state = states[pager]
  if state == nil then
    state = state_of(pager) -- raises for anything that is not a pager
    states[pager] = state
  end
  if state.closed then error("attempt to use a closed telnyx.Pager", 2) end
  local items = state.items
  if items ~= nil then
    -- decoded arrays have no holes (null is telnyx.null), so nil means the page is used up
    local index = state.index + 1
    local item = items[index]
    if item ~= nil then
      state.index = index
      return item
    end
  end
  state.page, state.items = nil, nil -- let the used-up page go before the next one arrives
  local page = fetch(state)
  if page == nil then return nil end
  state.index = 1
  return state.items[1]
end

local function close(pager)
  local state = state_of(pager)
  state.page, state.items, state.closed, state.finished = nil, nil, true, true
end

local methods = {}

-- for page in pager:pages() do ... end: each decoded page body ({data=, meta=}, or the array
-- itself for a list whose body is an array).
function methods.pages(pager)
  local state = state_of(pager)
  check_open(state)
  return function()
    local items = state.items
    if items ~= nil and state.index < #items then
      -- items already taken from this page: continue with the rest as a page of its own
      local rest = { table.unpack(items, state.index + 1) }
      local page = rest
      if state.kind_spec.items then
        page = {}
        for k, v in pairs(state.page) do page[k] = v end
        page[state.kind_spec.items] = rest
      end
      state.page, state.items = nil, nil
      return page
    end
    state.page, state.items = nil, nil
    local page = fetch(state)
    if page then state.index = #state.items end
    return page
  end, nil, nil, pager
end

-- for item in pager:items() do ... end (the pager itself iterates the same way).
function methods.items(pager)
  check_open(state_of(pager))
  return next_item, pager, nil, pager
end

-- An array of up to `limit` items (all when absent).
function methods.collect(pager, limit)
  if limit ~= nil and (math.type(limit) ~= "integer" or limit < 0) then
    error("collect: limit must be a non-negative integer", 2)
  end
  local items = {}
  while limit == nil or #items < limit do
    local item = next_item(pager)
    if item == nil then break end
    items[#items + 1] = item
  end
  return items
end

-- An array of the `field` (default "id") of every item left, all pages read before it
-- returns: the safe way to change or delete what a list returns, since a delete inside the walk
-- shifts the later pages. Holds one value an item (the walk itself holds one page).
function methods.ids(pager, field)
  if field == nil then field = "id" end
  if type(field) ~= "string" then error("ids: field must be a string (default \"id\")", 2) end
  local ids = {}
  while true do
    local item = next_item(pager)
    if item == nil then break end
    local id = type(item) == "table" and item[field] or nil
    if id == nil then -- a null id reads as nil too
      error(("ids: item %d has no %s (use pager:collect() for the items themselves)")
        :format(#ids + 1, field), 2)
    end
    ids[#ids + 1] = id
  end
  return ids
end

methods.close = close

-- The items the next iteration starts with, taking none: the rest of the page held, else the
-- next page, fetched now (the REPL shows a list call's first page this way). Returns them as
-- a page {data =, meta =} whatever the kind, or nil when there are no more.
function methods.peek(pager)
  local state = state_of(pager)
  check_open(state)
  if state.items == nil or state.index >= #state.items then
    state.page, state.items = nil, nil
    if fetch(state) == nil then return nil end
  end
  local items = state.items
  local page = state.page
  local meta = type(page) == "table" and page ~= items and page.meta or nil
  if state.index == 0 then return { data = items, meta = meta } end
  return { data = { table.unpack(items, state.index + 1) }, meta = meta }
end

-- What the pager is, for the REPL and for tostring.
function methods.info(pager)
  local state = state_of(pager)
  local op = state.op or {}
  return {
    resource = op.resource, method = op.method, path = state.path, params = state.params,
    kind = state.kind or "DefaultFlatPagination",
    pages_fetched = state.pages_fetched or 0, finished = state.finished or false,
    closed = state.closed or false,
  }
end

local function tostring_pager(pager)
  local info = methods.info(pager)
  return string.format("telnyx.Pager (%s:%s, %d page%s fetched%s)", info.resource or "?",
                       info.method or "list", info.pages_fetched,
                       info.pages_fetched == 1 and "" or "s",
                       info.closed and ", closed" or info.finished and ", done" or "")
end

return function(mt, state, raise_bad_page)
  state_of, bad_page = state, raise_bad_page
  mt.__index = methods
  mt.__call = next_item
  mt.__close = close
  mt.__tostring = tostring_pager
end
