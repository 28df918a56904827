-- Request bodies that are not JSON: application/x-www-form-urlencoded fields and
-- multipart/form-data parts (RFC 7578: boundary, part headers, names, filenames, content
-- types), parsed once per request and kept on it for the checks and the request log.

local util = require "mock.util"

local parse_query = util.parse_query

local find, sub, lower, match, gmatch = string.find, string.sub, string.lower, string.match, string.gmatch

-- "multipart/form-data; boundary=x" -> "multipart/form-data", its parameters by lower-cased name.
local function media_type(content_type)
  if type(content_type) ~= "string" or content_type == "" then return nil, {} end
  local mt = lower(match(content_type, "^%s*([^;%s]*)") or "")
  local params = {}
  for name, value in gmatch(content_type, ";%s*([^=;%s]+)%s*=%s*([^;]*)") do
    value = match(value, '^"(.*)"%s*$') or match(value, "^(.-)%s*$")
    params[lower(name)] = value
  end
  return mt, params
end

local function part_headers(block)
  local headers = {}
  for line in gmatch(block, "[^\r\n]+") do
    local name, value = match(line, "^([^:]+):%s*(.-)%s*$")
    if not name then return nil end
    headers[lower(name)] = value
  end
  return headers
end

-- The parts of a multipart body: {{name=, filename=?, content_type=?, data=}, ...}, or nil
-- and what is wrong.
local function parse_multipart(body, boundary)
  if not boundary or boundary == "" then return nil, "the multipart Content-Type has no boundary" end
  local delim = "--" .. boundary
  local pos = find(body, delim, 1, true)
  if not pos then return nil, "the multipart body has no part (boundary " .. boundary .. " not found)" end
  local parts = {}
  pos = pos + #delim
  while true do
    if sub(body, pos, pos + 1) == "--" then return parts end   -- the closing delimiter
    if sub(body, pos, pos + 1) ~= "\r\n" then return nil, "a multipart delimiter is not followed by CRLF" end
    local head_end = find(body, "\r\n\r\n", pos + 2, true)
    if not head_end then return nil, "a multipart part has no end of headers" end
    local headers = part_headers(sub(body, pos + 2, head_end - 1))
    if not headers then return nil, "a multipart part has a malformed header line" end
    local next_delim = find(body, "\r\n" .. delim, head_end + 4, true)
    if not next_delim then return nil, "the multipart body has no closing boundary" end
    local disposition = headers["content-disposition"] or ""
    local name = match(disposition, ';%s*name="([^"]*)"') or match(disposition, ";%s*name=([^;%s]+)")
    if not match(lower(disposition), "^%s*form%-data") or not name then
      return nil, "a multipart part has no Content-Disposition: form-data with a name"
    end
    parts[#parts + 1] = {
      name = name,
      filename = match(disposition, ';%s*filename="([^"]*)"') or match(disposition, ";%s*filename=([^;%s]+)"),
      content_type = headers["content-type"],
      data = sub(body, head_end + 4, next_delim - 1),
    }
    pos = next_delim + 2 + #delim
  end
end

-- The parsed form of a request, worked out once: {kind = "form"|"multipart", fields = {name:
-- value}, parts = {...}} or {error = message}; nil for other content types.
local function parsed(req)
  if req.form_parsed ~= nil then return req.form_parsed or nil end
  local mt, params = media_type(req.headers["content-type"])
  local out = false
  if mt == "application/x-www-form-urlencoded" then
    out = {kind = "form", fields = parse_query(req.body or "")}
  elseif mt == "multipart/form-data" then
    local parts, err = parse_multipart(req.body or "", params.boundary)
    if parts then
      local fields = {}
      for _, p in ipairs(parts) do
        if not p.filename then fields[p.name] = p.data end
      end
      out = {kind = "multipart", fields = fields, parts = parts}
    else
      out = {kind = "multipart", error = err}
    end
  end
  req.form_parsed = out
  return out or nil
end

-- What the request log shows of the parts: no data, only their size.
local function part_summaries(parts)
  local out = {}
  for i, p in ipairs(parts) do
    out[i] = {name = p.name, filename = p.filename or util.NULL,
              content_type = p.content_type or util.NULL, size = #p.data}
  end
  if #out == 0 then return util.EMPTY_ARRAY end
  return out
end

return {media_type = media_type, parse_multipart = parse_multipart, parsed = parsed,
        part_summaries = part_summaries}
