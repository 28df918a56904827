-- Iteration of telnyx.Pager (the userdata is made in src/pager.c). One page is held at a time:
-- page N+1 is fetched when the items of page N are used up, and iteration ends after
-- meta.total_pages or on an empty page. Fetches go through client:request, which yields
-- inside a telnyx.map task and blocks outside one.

local state_of -- set by install: pager -> its state table
local bad_page -- set by install: (message, url) raises an APIStatusError

-- page[size] and page[number] as given, nested or as flat bracket keys.
local function page_param(params, name)
  local page = params.page
  if type(page) == "table" and page[name] ~= nil then return page[name] end
  return params["page[" .. name .. "]"]
end

-- The query of page `number`: the caller's params with page[number] set, page[size] kept.
local function page_query(state, number)
  local query = {}
  for k, v in pairs(state.params or {}) do
    if k ~= "page" and k ~= "page[number]" and k ~= "page[size]" then query[k] = v end
  end
  query.page = { number = number, size = state.page_size }
  return query
end

local function check_open(state)
  if state.closed then error("attempt to use a closed telnyx.Pager", 3) end
end

local function init(state)
  if state.next_number then return end
  local params = state.params or {}
  if params.page ~= nil and type(params.page) ~= "table" then
    error("page must be a table such as {number = 1, size = 250}", 4)
  end
  local number, size = page_param(params, "number"), page_param(params, "size")
  if number ~= nil and (math.type(number) ~= "integer" or number < 1) then
    error("page[number] must be a positive integer", 4)
  end
  if size ~= nil and (math.type(size) ~= "integer" or size < 1) then
    error("page[size] must be a positive integer", 4)
  end
  state.next_number, state.page_size = number or 1, size
end

-- Fetches the next page into state.page; returns it, or nil when there are no more.
local function fetch(state)
  init(state)
  if state.finished then return nil end
  local opts = state.opts or {}
  local query, headers = page_query(state, state.next_number), opts.headers
  -- extra_query and extra_headers (unchecked extras, as the official SDKs') go on every page.
  for k, v in pairs(opts.extra_query or {}) do query[k] = v end
  if opts.extra_headers then
    headers = {}
    for k, v in pairs(opts.headers or {}) do headers[k] = v end
    for k, v in pairs(opts.extra_headers) do headers[k] = v end
  end
  local page = state.client:request("GET", state.path, {
    query = query, timeout = opts.timeout, max_retries = opts.max_retries, headers = headers,
  })
  if type(page) ~= "table" or type(page.data) ~= "table" then
    bad_page("list response has no data array", state.client.base_url .. state.path)
  end
  state.pages_fetched = (state.pages_fetched or 0) + 1
  local meta = page.meta or {}
  local number = meta.page_number or state.next_number
  local total = meta.total_pages
  state.next_number = number + 1
  if #page.data == 0 or (total ~= nil and number >= total) then state.finished = true end
  state.page, state.index = page, 0
  if #page.data == 0 then return nil end
  return page
end

-- pager -> its state, so that taking an item costs no call into C (a list of 10,000 items
-- calls next_item 10,000 times). Weak keys: a pager that is collected leaves it.
local states = setmetatable({}, { __mode = "k" })

-- The next item, or nil at the end.
local function next_item(pager)
  local state = states[pager]
  if state == nil then
    state = state_of(pager) -- raises for anything that is not a pager
    states[pager] = state
  end
  if state.closed then error("attempt to use a closed telnyx.Pager", 2) end
  local page = state.page
  if page ~= nil then
    -- decoded arrays have no holes (null is telnyx.null), so nil means the page is used up
    local index = state.index + 1
    local item = page.data[index]
    if item ~= nil then
      state.index = index
      return item
    end
  end
  state.page = nil -- let the used-up page go before the next one arrives
  page = fetch(state)
  if page == nil then return nil end
  state.index = 1
  return page.data[1]
end

local function close(pager)
  local state = state_of(pager)
  state.page, state.closed, state.finished = nil, true, true
end

local methods = {}

-- for page in pager:pages() do ... end: each decoded page body {data=, meta=}.
function methods.pages(pager)
  local state = state_of(pager)
  check_open(state)
  return function()
    if state.page ~= nil and state.index < #state.page.data then
      -- items already taken from this page: continue with the rest as a page of its own
      local rest = { data = { table.unpack(state.page.data, state.index + 1) }, meta = state.page.meta }
      state.page = nil
      return rest
    end
    state.page = nil
    local page = fetch(state)
    if page then state.index = #page.data end
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

methods.close = close

-- What the pager is, for the REPL and for tostring.
function methods.info(pager)
  local state = state_of(pager)
  local op = state.op or {}
  return {
    resource = op.resource, method = op.method, path = state.path, params = state.params,
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
