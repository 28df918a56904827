-- API answers: the Telnyx error object for a status (with the code type the operation's error
-- schema asks for), and JSON answers.

local util = require "mock.util"
local state = require("mock.state").state

local JSON_TYPE, json_encode = util.JSON_TYPE, util.json_encode

local tointeger = math.tointeger

local DOCS_URL = "https://developers.telnyx.com/docs/overview/errors/"

local ERRORS = {
  [400] = {"10015", "Bad Request", "The request failed because it was not well-formed."},
  [401] = {"10009", "Authentication failed", "Could not understand the provided credentials."},
  [403] = {"10010", "Not authorized", "You are not authorized to access the requested resource."},
  [404] = {"10005", "Resource not found", "The requested resource or URL could not be found."},
  [405] = {"10005", "Method not allowed", "The requested method is not allowed for this URL."},
  [409] = {"10014", "Conflict", "The request conflicts with the current state of the resource."},
  [413] = {"10015", "Payload too large", "The request body is too large."},
  [415] = {"10015", "Unsupported media type", "The request body's Content-Type is not accepted here."},
  [422] = {"10015", "Invalid parameter", "The request was well-formed but invalid."},
  [429] = {"10011", "Too many requests", "Rate limit exceeded, retry later."},
  [500] = {"10007", "Unexpected error", "An unexpected error occurred."},
  [502] = {"10007", "Bad gateway", "The upstream service failed."},
  [503] = {"10007", "Service unavailable", "The service is temporarily unavailable."},
  [504] = {"10007", "Gateway timeout", "The upstream service timed out."},
}

-- Does this operation's error schema for `status` type `code` as an integer
-- (billing-group_Error does) rather than a string?
local function integer_error_code(op, status)
  if not op then return false end
  local cached = op.int_codes[status]
  if cached ~= nil then return cached end
  local api = op.api or state.api   -- whole-spec operations carry their document
  local result = false
  local r = api.deref(op.raw.responses and (op.raw.responses[tostring(status)] or op.raw.responses.default))
  local c = r and r.content and r.content[JSON_TYPE]
  local s = c and api.deref(c.schema)
  local errs = s and s.properties and api.deref(s.properties.errors)
  local item = errs and api.deref(errs.items)
  local code = item and item.properties and api.deref(item.properties.code)
  if code and code.type == "integer" then result = true end
  op.int_codes[status] = result
  return result
end

local function error_response(op, status, detail, source, title)
  local std = ERRORS[status] or ERRORS[status >= 500 and 500 or 400]
  local code = std[1]
  if integer_error_code(op, status) then code = tointeger(tonumber(code)) end
  local e = {code = code, title = title or std[2], detail = detail or std[3], source = source,
             meta = {url = DOCS_URL .. std[1]}}
  return {status = status, body = json_encode({errors = {e}})}
end

local function json_response(status, value)
  return {status = status, body = type(value) == "string" and value or json_encode(value)}
end

return {error_response = error_response, json_response = json_response}
