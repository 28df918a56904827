-- help() and the REPL's completion cover the whole API: for every resource of the index,
-- telnyx.help(resource) lists its methods and its children; completion offers every top-level
-- resource after `client.`, every method after `client.<resource>:` and every child after
-- `client.<resource>.`. The WebSocket-only operation is not bound, and both help and the error
-- for its name say why. Completion is called as the REPL's completer (no terminal).
local telnyx = require "telnyx"
local help = require "telnyx.help"
local repl = require "telnyx.repl"
local api = require "spec.support.api"

local function plain_find(haystack, needle) return haystack:find(needle, 1, true) ~= nil end

local function set_of(list)
  local s = {}
  for _, x in ipairs(list) do s[x] = true end
  return s
end

describe("help and completion of the whole API", function()
  local client = telnyx.new { api_key = "KEYhelpCOMPLETE0123456789", base_url = "http://127.0.0.1:9/v2" }
  local index = require("telnyx.resources")
  local names = {}
  for name in pairs(index.resources) do names[#names + 1] = name end
  table.sort(names)

  teardown(function() api.unload() end)

  -- The direct children of a resource, from the index.
  local function children(name)
    local out = {}
    for _, other in ipairs(names) do
      if other:sub(1, #name + 1) == name .. "." and not other:find(".", #name + 2, true) then out[#out + 1] = other end
    end
    return out
  end

  it("the index has every resource of the help module, a few hundred of them", function()
    assert.are.same(names, help.resource_names())
    assert.is_true(#names > 300)
  end)

  it("telnyx.help(resource) lists every method (method, HTTP method, path) and every child", function()
    local missing = {}
    for _, name in ipairs(names) do
      local text = telnyx.help(name, { width = 1000 })
      if not plain_find(text, "client." .. name .. "  (telnyx.Resource)") then missing[#missing + 1] = name end
      for _, method in ipairs(index.resources[name].methods) do
        local op = help.operation(name, method)
        if not (op and text:find("\n  " .. method .. " +" .. op.http_method .. " +"
                                 .. op.path:gsub("%p", "%%%0"))) then
          missing[#missing + 1] = name .. ":" .. method
        end
      end
      for _, kid in ipairs(children(name)) do
        if not plain_find(text, "\n  client." .. kid .. "  (") then missing[#missing + 1] = name .. " child " .. kid end
      end
    end
    assert.are.same({}, missing)
  end)

  it("completion offers every top-level resource after client.", function()
    local offered = set_of(repl.complete("client.", { client = client }))
    local missing = {}
    for _, name in ipairs(names) do
      local top = name:match("^[^.]+")
      if not offered["client." .. top] then missing[#missing + 1] = top end
    end
    assert.are.same({}, missing)
  end)

  it("completion offers exactly a resource's methods after ':' and its children after '.'", function()
    local env = { client = client }
    local wrong = {}
    for _, name in ipairs(names) do
      local want = {}
      for i, method in ipairs(index.resources[name].methods) do want[i] = "client." .. name .. ":" .. method end
      table.sort(want)
      local got = repl.complete("client." .. name .. ":", env)
      if table.concat(got, " ") ~= table.concat(want, " ") then wrong[#wrong + 1] = name .. ":" end
      local after_dot = set_of(repl.complete("client." .. name .. ".", env))
      for _, kid in ipairs(children(name)) do
        if not after_dot["client." .. kid] then wrong[#wrong + 1] = name .. "." .. kid end
      end
    end
    assert.are.same({}, wrong)
  end)

  describe("the WebSocket-only operation", function()
    it("is the one unbound operation, and its resource does not offer it", function()
      assert.are.equal(1, #index.unbound)
      local u = index.unbound[1]
      assert.are.same({ "speech_to_text", "retrieve_transcription", "GET", "/speech-to-text/transcription" },
                      { u.resource, u.method, u.http_method, u.path })
      assert.matches("^WebSocket only", u.reason)
      assert.is_nil(set_of(index.resources.speech_to_text.methods).retrieve_transcription)
      assert.are.same({}, repl.complete("client.speech_to_text:retrieve_t", { client = client }))
    end)

    it("help of its resource and of its name say why it is not bound", function()
      local text = telnyx.help("speech_to_text")
      assert.truthy(plain_find(text, "Not bound: retrieve_transcription (GET /speech-to-text/transcription):\n"
                                       .. "  WebSocket only (wss://api.telnyx.com/v2): not callable over HTTP"), text)
      assert.truthy(plain_find(telnyx.help("speech_to_text.retrieve_transcription"), "WebSocket only"))
    end)

    it("indexing its name raises an error that says why", function()
      local ok, err = pcall(function() return client.speech_to_text.retrieve_transcription end)
      assert.is_false(ok)
      assert.are.equal("speech_to_text: 'retrieve_transcription' is not bound: WebSocket only "
                       .. "(wss://api.telnyx.com/v2): not callable over HTTP", err)
    end)
  end)
end)
