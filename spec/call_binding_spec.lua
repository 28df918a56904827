-- Argument binding of the whole API's call shape (LUA-API.md "The whole API"), with operation
-- entries of the generated table's format (scripts/build/TABLE.md) bound by telnyx._bind_op: positional and
-- keyword path parameters, declared headers, query parameters beside a body, the escape hatches
-- extra_query / extra_body / extra_headers, per-operation servers, and answers that are not
-- JSON. What reached the server is read from the mock's request log.
local telnyx = require "telnyx"
local mock = require "spec.support.mock"
local H = require "spec.support.client_helpers"

-- An operation entry as the generator writes it; `over` replaces fields.
local function op(over)
  local o = {
    resource = "things.parts", method = "update", operation_id = "UpdatePart", http_method = "POST",
    path = "/things/{thing_id}/parts/{part_id}", path_params = { "thing_id", "part_id" },
    positional = "part_id", accept = "application/json", response = "json", success = { 200 },
    query = { { name = "dry_run", type = "boolean" }, { name = "filter[kind]", type = "string" } },
    headers = { { name = "Idempotency-Key", type = "string", required = true } },
    body = { content_type = "application/json", optional = false, type = "object", required = { "name" },
             fields = { { name = "name", type = "string", required = true },
                        { name = "size", type = "integer" } } },
  }
  for k, v in pairs(over or {}) do
    if v == false then o[k] = nil else o[k] = v end
  end
  return o
end

describe("call binding", function()
  local m, c

  setup(function()
    m = mock.start { seed = 19 }
    c = H.client(m, { max_retries = 0 })
  end)
  teardown(function() if m then m:stop() end end)
  before_each(function() m:reset() end)

  -- Answers the next request of path prefix `path` with `body` (a table, JSON) and returns it.
  local function answer(path, body, extra)
    local rule = { path = path, status = 200, body = body or { data = { ok = true } } }
    for k, v in pairs(extra or {}) do rule[k] = v end
    m:fault(rule)
  end

  local function the_request()
    local reqs = m:requests()
    assert.are.equal(1, #reqs, "requests sent: " .. #reqs)
    return reqs[1]
  end

  it("positional and keyword path parameters, query beside the body, a header from params", function()
    local f = telnyx._bind_op(op())
    answer("/v2/things/")
    local params = { thing_id = "T 1", name = "n", size = 3, dry_run = true, filter = { kind = "k" },
                     idempotency_key = "idem-1" }
    local got = f(c.billing_groups, "P/2", params)
    assert.are.same({ data = { ok = true } }, got)
    local r = the_request()
    assert.are.equal("POST", r.method)
    assert.are.equal("/v2/things/T%201/parts/P%2F2", r.path)
    assert.are.same({ dry_run = "true", ["filter[kind]"] = "k" }, r.query_params)
    assert.are.same({ name = "n", size = 3 }, mock.json.decode(r.body))
    assert.are.equal("idem-1", r.headers["idempotency-key"])
    assert.are.equal("application/json", r.headers["content-type"])
    -- the caller's table is left as it was
    assert.are.equal("T 1", params.thing_id)
    assert.are.equal("idem-1", params.idempotency_key)
  end)

  it("a missing or empty keyword path parameter is an error naming method and parameter; nothing is sent", function()
    local f = telnyx._bind_op(op())
    local err = H.failure(f, c.billing_groups, "P2", { name = "n", idempotency_key = "k" })
    assert.matches("things.parts:update: missing path parameter 'thing_id'", err, 1, true)
    err = H.failure(f, c.billing_groups, "P2", { thing_id = "", name = "n", idempotency_key = "k" })
    assert.matches("things.parts:update: path parameter 'thing_id' must be a non-empty string, got an empty string", err, 1, true)
    err = H.failure(f, c.billing_groups, "P2", { thing_id = 7, name = "n", idempotency_key = "k" })
    -- the spec's check (lua/telnyx/check.lua) says it first: the parameter is a string
    assert.matches("things.parts:update: thing_id must be a string, got an integer", err, 1, true)
    err = H.failure(f, c.billing_groups, nil, { thing_id = "T", name = "n" })
    assert.matches("things.parts:update: part_id must be a non-empty string, got nil", err, 1, true)
    assert.are.equal(0, #m:requests())
  end)

  it("a required header missing from params and opts is refused before any request", function()
    local f = telnyx._bind_op(op())
    local err = H.failure(f, c.billing_groups, "P", { thing_id = "T", name = "n" })
    assert.matches("things.parts:update: missing required header 'Idempotency-Key' (params.idempotency_key or opts.headers)", err, 1, true)
    assert.are.equal(0, #m:requests())
    -- opts.headers (any case) and opts.extra_headers satisfy it
    answer("/v2/things/")
    f(c.billing_groups, "P", { thing_id = "T", name = "n" }, { headers = { ["idempotency-key"] = "from-opts" } })
    assert.are.equal("from-opts", the_request().headers["idempotency-key"])
    m:reset()
    answer("/v2/things/")
    f(c.billing_groups, "P", { thing_id = "T", name = "n" }, { extra_headers = { ["Idempotency-Key"] = "x" } })
    assert.are.equal("x", the_request().headers["idempotency-key"])
  end)

  it("a header given in params under the spec's spelling is sent as a header, not in the body", function()
    local f = telnyx._bind_op(op())
    answer("/v2/things/")
    f(c.billing_groups, "P", { thing_id = "T", name = "n", ["Idempotency-Key"] = "spelled" })
    local r = the_request()
    assert.are.equal("spelled", r.headers["idempotency-key"])
    assert.are.same({ name = "n" }, mock.json.decode(r.body))
  end)

  it("extra_query, extra_body and extra_headers are sent as given", function()
    local f = telnyx._bind_op(op())
    answer("/v2/things/")
    f(c.billing_groups, "P", { thing_id = "T", name = "n", idempotency_key = "k" },
      { extra_query = { debug = "1" }, extra_body = { undocumented = { 1, 2 } },
        extra_headers = { ["X-Extra"] = "yes" } })
    local r = the_request()
    assert.are.same({ debug = "1" }, r.query_params)
    assert.are.same({ name = "n", undocumented = { 1, 2 } }, mock.json.decode(r.body))
    assert.are.equal("yes", r.headers["x-extra"])
  end)

  it("an operation without any parameter has no params slot: its table is opts", function()
    local f = telnyx._bind_op(op { method = "retrieve", http_method = "GET", path = "/things/{thing_id}",
                                   path_params = { "thing_id" }, positional = "thing_id", query = {},
                                   headers = false, body = false })
    answer("/v2/things/")
    f(c.billing_groups, "T9", { extra_query = { x = "1" }, headers = { ["X-Opt"] = "o" } })
    local r = the_request()
    assert.are.equal("GET", r.method)
    assert.are.equal("/v2/things/T9", r.path)
    assert.are.same({ x = "1" }, r.query_params)
    assert.are.equal("o", r.headers["x-opt"])
    local err = H.failure(f, c.billing_groups, "T9", { name = "x" })
    assert.matches("unknown option 'name'", err, 1, true)
  end)

  it("an operation on the server https://api.telnyx.com goes to the base URL's origin, without /v2", function()
    local f = telnyx._bind_op(op { resource = "well_known", method = "retrieve_oauth", http_method = "GET",
                                   path = "/.well-known/oauth-authorization-server", path_params = {},
                                   positional = false, query = {}, headers = false, body = false,
                                   server = "https://api.telnyx.com" })
    answer("/.well-known/", { issuer = "x" })
    assert.are.same({ issuer = "x" }, f(c.billing_groups))
    assert.are.equal("/.well-known/oauth-authorization-server", the_request().path)
    -- the default server written out is the base URL itself
    local g = telnyx._bind_op(op { method = "list_providers", http_method = "GET", path = "/providers",
                                   path_params = {}, positional = false, query = {}, headers = false,
                                   body = false, server = "https://api.telnyx.com/v2" })
    m:reset()
    answer("/v2/providers", { data = {} })
    g(c.billing_groups)
    assert.are.equal("/v2/providers", the_request().path)
    -- another origin would receive the API key: refused
    local h = telnyx._bind_op(op { method = "x", http_method = "GET", path = "/x", path_params = {},
                                   positional = false, query = {}, headers = false, body = false,
                                   server = "https://evil.example.com" })
    assert.matches("not under https://api.telnyx.com", H.failure(h, c.billing_groups), 1, true)
  end)

  describe("answers that are not JSON", function()
    local function get_op(response)
      return telnyx._bind_op(op { method = "download", http_method = "GET", path = "/things/{thing_id}/file",
                                  path_params = { "thing_id" }, positional = "thing_id", query = {},
                                  headers = false, body = false, response = response,
                                  accept = "application/octet-stream" })
    end

    it("a text answer comes back as the body and its content type", function()
      answer("/v2/things/", "a,b\n1,2\n", { content_type = "text/csv" })
      local body, ct = get_op("text")(c.billing_groups, "T")
      assert.are.equal("a,b\n1,2\n", body)
      assert.are.equal("text/csv", ct)
    end)

    it("a binary operation's answer never goes through the JSON decoder, whatever its label", function()
      answer("/v2/things/", '{"not": "decoded"', { content_type = "application/json" })
      local body, ct = get_op("binary")(c.billing_groups, "T")
      assert.are.equal('{"not": "decoded"', body)
      assert.are.equal("application/json", ct)
    end)

    it("a JSON operation answered with another content type gets the text too", function()
      answer("/v2/things/", "<html>hi</html>", { content_type = "text/html" })
      local body, ct = get_op("json")(c.billing_groups, "T")
      assert.are.equal("<html>hi</html>", body)
      assert.are.equal("text/html", ct)
    end)

    it("opts.output writes the body to a file and returns its path and size", function()
      local path = os.tmpname()
      answer("/v2/things/", "bytes\0with\0nul", { content_type = "application/octet-stream" })
      local p, n = get_op("binary")(c.billing_groups, "T", { output = path })
      assert.are.equal(path, p)
      assert.are.equal(14, n)
      local f = assert(io.open(path, "rb"))
      assert.are.equal("bytes\0with\0nul", f:read("a"))
      f:close()
      os.remove(path)
      answer("/v2/things/", "x", { content_type = "text/plain" })
      local err = H.failure(get_op("binary"), c.billing_groups, "T", { output = "/nonexistent-dir/x" })
      assert.matches("output: cannot write '/nonexistent-dir/x'", err, 1, true)
    end)

    it("an error status is still an error object", function()
      m:fault { path = "/v2/things/", status = 404 }
      local err = H.failure(get_op("binary"), c.billing_groups, "T", { output = os.tmpname() })
      assert.are.equal("NotFoundError", err.type)
    end)
  end)
end)
