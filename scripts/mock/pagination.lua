-- The official SDKs' 12 pagination kinds (scripts/build/SOURCES.md tables them): for each,
-- the query parameters a page is asked with, where the items go and what tells the client
-- where the next page is, so a client walking a list by its kind's rule sees every item once
-- and stops. Numbered pages start at 1 (a missing number is page 1); cursors are opaque.

local util = require "mock.util"

local EMPTY_ARRAY, NULL = util.EMPTY_ARRAY, util.NULL

local format, match = string.format, string.match
local min, tointeger = math.min, math.tointeger

local DEFAULT_SIZE, MAX_SIZE = 20, 1000

local function page_meta(number, size, total)
  return {page_number = number, page_size = size, total_results = total,
          total_pages = (total + size - 1) // size}
end

-- number / cursor: the query parameter naming the page; sizes: those giving its size, first
-- declared wins; body(items, page) builds the answer (page = {number=, size=, total=, next=}).
local KINDS = {
  DefaultFlatPagination = {number = "page[number]", sizes = {"page[size]"},
    body = function(items, p) return {data = items, meta = page_meta(p.number, p.size, p.total)} end},
  DefaultFlatPaginationTopLevelArray = {number = "page[number]", sizes = {"page[size]"},
    body = function(items) return items end},
  DefaultFlatPaginationForInexplicitNumberOrders = {number = "page_number", sizes = {"page_size"},
    body = function(items, p) return {data = items, meta = page_meta(p.number, p.size, p.total)} end},
  DefaultPaginationForLogMessages = {number = "page[number]", sizes = {"page[size]"},
    body = function(items, p) return {log_messages = items, meta = page_meta(p.number, p.size, p.total)} end},
  DefaultPaginationForMessagingTollfree = {number = "page", sizes = {"page_size"},
    body = function(items, p) return {records = items, total_records = p.total} end},
  DefaultPaginationForQueues = {number = "Page", sizes = {"PageSize"},
    body = function(items, p, path)
      local first = (p.number - 1) * p.size
      return {queues = items, page = p.number, page_size = p.size, start = first,
              ["end"] = first + #items - (#items > 0 and 1 or 0), uri = path,
              first_page_uri = format("%s?Page=1&PageSize=%d", path, p.size),
              next_page_uri = p.number * p.size < p.total
                and format("%s?Page=%d&PageSize=%d", path, p.number + 1, p.size) or NULL}
    end},
  PerPagePagination = {number = "page", sizes = {"per_page"},
    body = function(items, p) return {data = items, meta = page_meta(p.number, p.size, p.total)} end},
  PerPagePaginationV2 = {number = "page", sizes = {"recordsPerPage"},
    body = function(items, p) return {records = items, page = p.number, totalRecords = p.total} end},
  CursorFlatPagination = {cursor = "cursor", sizes = {"limit"},
    body = function(items, p) return {data = items, meta = {cursor = p.next or NULL, has_more = p.next ~= nil}} end},
  EmailCursorPagination = {cursor = "page_cursor", sizes = {"page_size"},
    body = function(items, p) return {data = items, meta = {page_cursor = p.next or NULL, page_size = p.size}} end},
  EmailBracketCursorPagination = {cursor = "page[after]", sizes = {"page[size]", "page[limit]"},
    body = function(items, p) return {data = items, meta = {page_cursor = p.next or NULL, page_size = p.size}} end},
  CloudfsCursorPagination = {cursor = "page[after]", sizes = {"page[limit]"},
    body = function(items, p) return {data = items, meta = {cursors = {after = p.next or NULL}}} end},
}
-- Lists outside the SDK's kinds: page[number] pages when the operation declares them, else
-- everything in one answer, as `data` or as the body.
KINDS.unpaged = {sizes = {},
  body = function(items, _, _, top_level) if top_level then return items end return {data = items} end}

-- The query parameters a kind reads (allowed whether the spec declares them or not).
local function kind_params(kind)
  local k = KINDS[kind]
  local out = {}
  if not k then return out end
  if k.number then out[k.number] = true end
  if k.cursor then out[k.cursor] = true end
  for _, s in ipairs(k.sizes) do out[s] = true end
  return out
end

local function int_query(q, name, default, lo, hi)
  local raw = q[name]
  if raw == nil or raw == "" then return default end
  local n = tointeger(tonumber(raw))
  if not n then return nil, name .. " must be an integer" end
  if n < lo then return nil, format("%s must be at least %d", name, lo) end
  if n > hi then return nil, format("%s must be at most %d", name, hi) end
  return n
end

local CURSOR_PREFIX = "mockcursor"   -- no pattern magic: it goes into a pattern

-- One page of `all` (an array of records) for a request with query `q`, as the kind answers
-- it. opts: size_schema(name) -> the declared schema of a size parameter, if any; path (the
-- request's, for the links of the queues kind); top_level (an unpaged list that is the body).
-- Returns the answer's value, or nil, a message and the parameter it is about.
local function page(kind, all, q, opts)
  local k = KINDS[kind] or KINDS.unpaged
  local total = #all
  local size, first, number, err = total, 1, 1, nil
  local size_name = k.sizes[1]
  for _, name in ipairs(k.sizes) do
    if q[name] ~= nil then size_name = name break end
  end
  if size_name then
    local s = opts.size_schema(size_name) or {}
    size, err = int_query(q, size_name, tointeger(s.default) or DEFAULT_SIZE, 1, tointeger(s.maximum) or MAX_SIZE)
    if not size then return nil, err, size_name end
  elseif kind == "unpaged" then
    size = total
  end
  if k.number then
    number, err = int_query(q, k.number, 1, 0, 1000000000)
    if not number then return nil, err, k.number end
    if number < 1 then number = 1 end
    first = (number - 1) * size + 1
  elseif k.cursor then
    local c = q[k.cursor]
    if c ~= nil and c ~= "" then
      local offset = tointeger(tonumber(match(c, "^" .. CURSOR_PREFIX .. "(%d+)$") or ""))
      if not offset then return nil, k.cursor .. " is not a cursor this list gave", k.cursor end
      first = offset + 1
    end
  end
  local items = {}
  for i = first, min(total, first + size - 1) do items[#items + 1] = all[i] end
  local last = first + #items - 1
  local p = {number = number, size = size, total = total,
             next = (k.cursor and last < total and #items > 0) and (CURSOR_PREFIX .. last) or nil}
  if #items == 0 then items = EMPTY_ARRAY end
  return k.body(items, p, opts.path, opts.top_level)
end

return {KINDS = KINDS, kind_params = kind_params, page = page}
