-- Request bodies in their declared content type (src/body.c): JSON, form-encoded,
-- multipart/form-data with telnyx.file parts (by path or from a string), and raw octet-stream.
-- What reached the server is read from the mock's request log.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

local function op(content_type, fields, over)
  local o = {
    resource = "uploads", method = "create", operation_id = "CreateUpload", http_method = "POST",
    path = "/uploads", path_params = {}, accept = "application/json", response = "json",
    success = { 200 }, query = { { name = "mode", type = "string" } },
    body = { content_type = content_type, optional = false, type = "object", required = {},
             fields = fields or {}, additional = true }, -- any field: these specs are about encoding
  }
  for k, v in pairs(over or {}) do o[k] = v end
  return telnyx._bind_op(o)
end

-- name -> {filename=, type=, data=} of each part of a multipart body ("name[]" parts in order,
-- as an array under that name).
local function parts_of(body, content_type)
  local boundary = assert(content_type:match("boundary=([^;]+)"), content_type)
  local sep, out = "--" .. boundary, {}
  local start = body:find(sep, 1, true)
  while start do
    local stop = body:find("\r\n" .. sep, start + #sep, true)
    if not stop then break end
    local head, data = body:sub(start + #sep + 2, stop - 1):match("^(.-)\r\n\r\n(.*)$")
    local name = head:match('name="([^"]*)"')
    local part = { data = data, filename = head:match('filename="([^"]*)"'),
                   type = head:match("[Cc]ontent%-[Tt]ype: ([^\r\n]+)") }
    if name:sub(-2) == "[]" then
      out[name] = out[name] or {}
      table.insert(out[name], part)
    else
      out[name] = part
    end
    start = stop + 2
  end
  return out
end

describe("request bodies", function()
  local m, c, dir

  setup(function()
    m = mock.start { seed = 20 }
    c = H.client(m, { max_retries = 1 })
    dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p " .. dir)
  end)
  teardown(function()
    if m then m:stop() end
    os.execute("rm -rf " .. dir)
  end)
  before_each(function()
    m:reset()
    m:fault { path = "/v2/uploads", status = 200, body = { data = { ok = true } } }
  end)

  local function the_request()
    local reqs = m:requests()
    assert.are.equal(1, #reqs, "requests sent: " .. #reqs)
    return reqs[1]
  end

  local function write(name, text)
    local path = dir .. "/" .. name
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    return path
  end

  it("JSON, as today", function()
    op("application/json")(c.billing_groups, { a = 1, mode = "m" })
    local r = the_request()
    assert.are.equal("application/json", r.headers["content-type"])
    assert.are.same({ a = 1 }, mock.json.decode(r.body))
    assert.are.same({ mode = "m" }, r.query_params)
  end)

  it("form-encoded: the query string encoding, with its content type", function()
    op("application/x-www-form-urlencoded")(c.billing_groups,
      { To = "+15551234567", Url = "https://x.test/a b", Record = true, mode = "q" })
    local r = the_request()
    assert.are.equal("application/x-www-form-urlencoded", r.headers["content-type"])
    assert.are.equal("Record=true&To=%2B15551234567&Url=https%3A%2F%2Fx.test%2Fa%20b", r.body)
    assert.are.same({ mode = "q" }, r.query_params)
  end)

  it("multipart: a file by path, a file from a string, scalar fields, arrays and objects", function()
    local path = write("notes.txt", "hello from a file\n")
    op("multipart/form-data")(c.billing_groups, {
      media = telnyx.file(path),
      attachment = telnyx.file { data = "in memory", filename = "mem.csv", content_type = "text/csv" },
      renamed = telnyx.file(path, { filename = "other.txt", content_type = "text/plain" }),
      name = "n", count = 3, flag = false, tags = { "a", "b" }, meta = { k = "v" },
    })
    local r = the_request()
    assert.matches("^multipart/form%-data; boundary=", r.headers["content-type"])
    local p = parts_of(r.body, r.headers["content-type"])
    assert.are.same({ data = "hello from a file\n", filename = "notes.txt", type = "application/octet-stream" }, p.media)
    assert.are.same({ data = "in memory", filename = "mem.csv", type = "text/csv" }, p.attachment)
    assert.are.same({ data = "hello from a file\n", filename = "other.txt", type = "text/plain" }, p.renamed)
    assert.are.equal("n", p.name.data)
    assert.is_nil(p.name.filename)
    assert.are.equal("3", p.count.data)
    assert.are.equal("false", p.flag.data)
    assert.are.same({ "a", "b" }, { p["tags[]"][1].data, p["tags[]"][2].data })
    assert.are.equal("v", p["meta[k]"].data)
  end)

  it("multipart: the body is sent whole again on a retry", function()
    m:reset()
    m:fault { path = "/v2/uploads", status = 500, headers = H.RETRY_NOW }
    m:fault { path = "/v2/uploads", status = 200, body = { data = {} } }
    local path = write("retry.txt", "again")
    op("multipart/form-data")(c.billing_groups, { media = telnyx.file(path), name = "r" })
    local reqs = m:requests()
    assert.are.equal(2, #reqs)
    for _, r in ipairs(reqs) do
      local p = parts_of(r.body, r.headers["content-type"])
      assert.are.equal("again", p.media.data)
      assert.are.equal("r", p.name.data)
    end
  end)

  it("an unreadable file is a clear error before any request", function()
    local err = H.failure(op("multipart/form-data"), c.billing_groups, { media = telnyx.file(dir .. "/missing.bin") })
    assert.matches("telnyx.file: cannot read '" .. dir .. "/missing.bin': No such file", err, 1, true)
    err = H.failure(op("multipart/form-data"), c.billing_groups, { bad = print })
    assert.matches("multipart field 'bad' cannot be a function", err, 1, true)
    assert.are.equal(0, #m:requests())
  end)

  it("octet-stream: a string or a telnyx.file, as params.body or in the params slot", function()
    local put = op("application/octet-stream", {}, { http_method = "PUT", path = "/uploads/{key}",
                                                   path_params = { "key" }, positional = "key", query = {} })
    put(c.billing_groups, "k1", "raw bytes")
    local r = the_request()
    assert.are.equal("PUT", r.method)
    assert.are.equal("/v2/uploads/k1", r.path)
    assert.are.equal("application/octet-stream", r.headers["content-type"])
    assert.are.equal("raw bytes", r.body)
    m:reset()
    m:fault { path = "/v2/uploads", status = 200, body = {} }
    put(c.billing_groups, "k2", { body = telnyx.file(write("blob", "file bytes")) })
    assert.are.equal("file bytes", the_request().body)
    assert.matches("must be a string or a telnyx.file",
                   H.failure(put, c.billing_groups, "k3", { body = 42 }), 1, true)
  end)

  it("telnyx.file refuses what it cannot be", function()
    assert.matches("expected a path or a table", H.failure(telnyx.file, 3), 1, true)
    assert.matches("data must be a string", H.failure(telnyx.file, { filename = "x" }), 1, true)
    assert.matches("unknown option 'name'", H.failure(telnyx.file, "x", { name = "y" }), 1, true)
    assert.matches("filename must be a string", H.failure(telnyx.file, "x", { filename = 1 }), 1, true)
    local f = telnyx.file { data = "abc", filename = "a.txt" }
    assert.are.equal("telnyx.File (3 bytes, a.txt)", tostring(f))
    assert.are.equal("telnyx.File", getmetatable(f).__name)
  end)
end)
