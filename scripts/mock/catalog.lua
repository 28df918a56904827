-- The whole API's routes (scripts/build/telnyx-openapi-spec3.json): every operation an HTTP
-- client can call, by URL prefix ("/v2", or "" for the paths whose `servers` is the host root),
-- with its pagination kind from the official SDK's method list and the collection store it
-- shares with its sibling operations. Built at start from the path templates only; what an
-- operation needs from its schemas is worked out on its first request (describe), so start-up
-- never resolves a $ref.

local util = require "mock.util"
local schemas = require "mock.schema"

local percent_decode = util.percent_decode

local sort = table.sort
local concat = table.concat
local sub, gsub, match, gmatch, find = string.sub, string.gsub, string.match, string.gmatch, string.find

local PARAM = {}   -- a segment that is a whole {param}
local METHODS = {get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"}
local ITEM_METHODS = {GET = true, PATCH = true, PUT = true, DELETE = true}

-- "/texml/.../{streaming_sid}.json": a segment mixing text and parameters, as a Lua pattern.
local function segment(seg)
  if match(seg, "^{[^{}]+}$") then return PARAM, false end
  if not find(seg, "{", 1, true) then return seg, true end
  local pattern = "^" .. gsub(gsub(seg, "[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"), "{[^{}]+}", "([^/]-)") .. "$"
  return {pattern = pattern}, true
end

-- The URL prefix of a path: the path part of its `servers` (per operation, else per path),
-- "/v2" by default; nil for a server that is not HTTP (the WebSocket one).
local function prefix_of(servers)
  local url = type(servers) == "table" and servers[1] and servers[1].url
  if type(url) ~= "string" then return "/v2" end
  if not match(url, "^https?://") then return nil end
  return (gsub(match(url, "^https?://[^/]*(.*)$"), "/$", ""))
end

-- The official SDK's methods: "METHOD path" -> pagination kind ("" when not paginated).
local function read_tsv(path)
  local kinds = {}
  local f = io.open(path, "rb")
  if not f then error("cannot read the SDK method list " .. path, 0) end
  f:read("l")   -- header
  for line in f:lines() do
    local fields = {}
    for x in gmatch(line .. "\t", "([^\t]*)\t") do fields[#fields + 1] = x end
    if fields[1] and fields[2] then kinds[fields[1] .. " " .. fields[2]] = fields[7] or "" end
  end
  f:close()
  return kinds
end

local function add_route(by_prefix, prefix, template)
  local routes = by_prefix[prefix]
  if not routes then
    routes = {}
    by_prefix[prefix] = routes
  end
  local segs, shape, literals = {}, {}, 0
  for seg in gmatch(template, "[^/]+") do
    local s, literal = segment(seg)
    segs[#segs + 1] = s
    shape[#shape + 1] = s == PARAM and "{}" or seg
    if literal then literals = literals + 1 end
  end
  local key = concat(shape, "/")
  local route = routes[key]
  if not route then
    route = {template = template, segs = segs, literals = literals, ops = {}}
    routes[key] = route
    routes[#routes + 1] = route
  end
  return route
end

-- Builds the catalog. `api` is the whole spec (mock.schema.load_api), `tsv` the SDK's methods.
local function build(api, tsv_path)
  local kinds = read_tsv(tsv_path)
  local by_prefix, ops, skipped = {}, {}, {}
  local templates = {}   -- "METHOD template" -> op, to pair collections with items
  for template, item in pairs(api.doc.paths) do
    for key, raw in pairs(item) do
      local method = METHODS[key]
      if method and type(raw) == "table" then
        local prefix = prefix_of(raw.servers or item.servers)
        if prefix == nil then
          skipped[#skipped + 1] = method .. " " .. template
        else
          local route = add_route(by_prefix, prefix, template)
          local op = {method = method, template = template, prefix = prefix, raw = raw,
                      path_item = item, api = api, id = raw.operationId, int_codes = {},
                      kind = kinds[method .. " " .. template]}
          route.ops[method] = op
          ops[#ops + 1] = op
          templates[method .. " " .. template] = op
        end
      end
    end
  end
  -- The SDK's paginated lists that the spec lacks: GET only, served from seeded records.
  for key, kind in pairs(kinds) do
    local method, template = match(key, "^(%u+) (.*)$")
    if kind ~= "" and kind ~= "pagination" and method == "GET" and not api.doc.paths[template] then
      local route = add_route(by_prefix, "/v2", template)
      local op = {method = "GET", template = template, prefix = "/v2", raw = {responses = {}},
                  path_item = {}, api = api, int_codes = {}, kind = kind, sdk_only = true}
      route.ops.GET = op
      ops[#ops + 1] = op
      templates["GET " .. template] = op
    end
  end
  -- Collections: GET /x (a list) and POST /x (create) share a store with GET, PATCH, PUT and
  -- DELETE /x/{id}; the store is named by the collection's template ("/messaging_profiles").
  -- Every GET may be a list (known once described); POST /x creates where GET /x or /x/{id} is.
  local collections = {}
  local function collection(t)
    collections[t] = collections[t] or {name = t, items = {}}
    return collections[t]
  end
  for _, op in ipairs(ops) do
    local t = op.template
    local parent, last = match(t, "^(.*)/({[^/{}]+})$")
    if parent and ITEM_METHODS[op.method] and not match(parent, "}$")
        and (templates["GET " .. parent] or templates["POST " .. parent]) then
      op.item_of = parent
      op.id_param = sub(last, 2, -2)
      local c = collection(parent)
      c.items[#c.items + 1] = op
    end
  end
  for _, op in ipairs(ops) do
    if op.method == "GET" then collection(op.template).list = op end
  end
  for _, op in ipairs(ops) do
    local c = op.method == "POST" and collections[op.template]
    if c then c.create = op end
  end
  -- More literal segments first: "/calls/{id}/actions/answer" before "/calls/{id}/actions/{a}".
  for prefix, routes in pairs(by_prefix) do
    local list = {}
    for i = 1, #routes do list[i] = routes[i] end
    sort(list, function(a, b)
      if a.literals ~= b.literals then return a.literals > b.literals end
      return a.template < b.template
    end)
    -- Indexed by segment count and first segment, so a request tries a handful of routes.
    local index = {}
    for _, route in ipairs(list) do
      local n, first = #route.segs, route.segs[1]
      local key = n .. " " .. (type(first) == "string" and first or "*")
      index[key] = index[key] or {}
      index[key][#index[key] + 1] = route
    end
    by_prefix[prefix] = {index = index}
  end
  return {by_prefix = by_prefix, ops = ops, skipped = skipped, kinds = kinds, collections = collections}
end

local function try_route(route, segs)
  local rs = route.segs
  for i = 1, #rs do
    local r = rs[i]
    if r ~= PARAM then
      if type(r) == "string" then
        if r ~= segs[i] then return nil end
      elseif not match(segs[i], r.pattern) then
        return nil
      end
    end
  end
  local params = {}
  for i = 1, #rs do
    local r = rs[i]
    if r == PARAM then params[#params + 1] = percent_decode(segs[i])
    elseif type(r) == "table" then
      for v in gmatch(segs[i], r.pattern) do params[#params + 1] = percent_decode(v) end
    end
  end
  return params
end

-- The route of `path` (without the prefix) under `prefix`, and its path parameters in order.
local function match_route(catalog, prefix, path)
  local entry = catalog.by_prefix[prefix]
  if not entry or sub(path, -1) == "/" then return nil end
  local segs = {}
  for seg in gmatch(path, "[^/]+") do segs[#segs + 1] = seg end
  if #segs == 0 then return nil end
  for _, key in ipairs({#segs .. " " .. segs[1], #segs .. " *"}) do
    for _, route in ipairs(entry.index[key] or {}) do
      local params = try_route(route, segs)
      if params then return route, params end
    end
  end
  return nil
end

local function load(spec_path, tsv_path)
  return build(schemas.load_api(spec_path), tsv_path)
end

return {load = load, build = build, match_route = match_route}
