-- The REPL: the pretty printer, help and completion as functions (no terminal), then the real
-- binary driven through a pseudo-terminal (tmux) against the local mock API.
local cli = require "spec.support.cli"
local mock = require "spec.support.mock"
local pty = require "spec.support.pty"
local socket = require "socket"

local telnyx = require "telnyx"
local repl = require "telnyx.repl"
-- the account-access part of the API (the mock serves it)
local resources = { resources = require("spec.support.api").account_access_resources(),
                    operations = require("spec.support.api").account_access() }

local KEY = "KEY0123456789abcdefSPEC"

local function plain_find(haystack, needle) return haystack:find(needle, 1, true) end

-- Methods of a resource as the generated table lists them.
local function methods_of(name)
  for _, r in ipairs(resources.resources) do
    if r.name == name then return r.methods end
  end
  error("no resource " .. name)
end

local function find_op(resource, method)
  for _, op in ipairs(resources.operations) do
    if op.resource == resource and op.method == method then return op end
  end
end

describe("telnyx.repl.format", function()
  local format = repl.format

  it("indents nested tables, array part first in order, then keys sorted", function()
    local v = { "first", "second", zeta = 1, alpha = { inner = true, list = { 3, 1, 2 } },
                ["with space"] = "x", mid = "m" }
    local out = format(v, { width = 30 })
    assert.are.equal(table.concat({
      "{",
      '  "first", "second",',
      "  alpha = {",
      "    inner = true,",
      "    list = { 3, 1, 2 }",
      "  },",
      '  mid = "m",',
      '  ["with space"] = "x",',
      "  zeta = 1",
      "}",
    }, "\n"), out)
    -- wide enough, the same value fits on one line
    assert.are.equal('{ "first", "second", alpha = { inner = true, list = { 3, 1, 2 } }, '
      .. 'mid = "m", ["with space"] = "x", zeta = 1 }', format(v, { width = 200 }))
    -- numbers before strings before the rest; strings in byte order
    assert.are.equal('{ [2.5] = 1, [10] = 2, B = 3, a = 4, [true] = 5 }',
                     format({ a = 4, B = 3, [10] = 2, [2.5] = 1, [true] = 5 }, { width = 200 }))
  end)

  it("elides long arrays after 20 items with the count of the rest", function()
    local list = {}
    for i = 1, 57 do list[i] = i * 11 end
    local out = format({ data = list }, { width = 60 })
    assert.truthy(plain_find(out, "... (37 more)"))
    assert.truthy(plain_find(out, " 220,"))           -- item 20
    assert.falsy(plain_find(out, "231"))              -- item 21 is not shown
    assert.truthy(plain_find(format(list, { max_items = 5 }), "55, ... (52 more)"))
    -- an array of exactly max_items has nothing to elide
    assert.falsy(plain_find(format({ 1, 2, 3 }, { max_items = 3 }), "more"))
  end)

  it("marks cycles instead of recursing, and stops at the depth limit", function()
    local t = { name = "loop" }
    t.self = t
    t.child = { parent = t }
    local out = format(t)
    local cycles = select(2, out:gsub("<cycle", ""))
    assert.are.equal(2, cycles)
    -- a table seen twice but not inside itself is no cycle
    local shared = { 1 }
    assert.falsy(plain_find(format({ a = shared, b = shared }), "cycle"))
    local deep = {}
    local cur = deep
    for _ = 1, 20 do cur.next = {} cur = cur.next end
    assert.truthy(plain_find(format(deep, { depth = 3 }), "{...}"))
  end)

  it("shows JSON null as null and JSON arrays as arrays, [] when empty", function()
    local v = telnyx.json.decode('{"a":[],"b":{},"c":[1,null,"x"],"d":null,"e":[{"id":"1"}]}')
    local out = format(v, { width = 200 })
    assert.are.equal('{ a = [], b = {}, c = [ 1, null, "x" ], d = null, e = [ { id = "1" } ] }', out)
    assert.are.equal("[]", format(telnyx.json.decode("[]")))
    assert.are.equal("{}", format({}))
    assert.are.equal("null", format(telnyx.null))
  end)

  it("quotes strings readably: escapes what is invisible or ambiguous, keeps UTF-8", function()
    assert.are.equal('"plain"', format("plain"))
    assert.are.equal('"say \\"hi\\"\\n\\tback\\\\slash"', format('say "hi"\n\tback\\slash'))
    assert.are.equal('"nul\\0001"', format("nul\0" .. "1"))
    assert.are.equal('"caf\xc3\xa9 \xe2\x82\xac"', format("caf\xc3\xa9 \xe2\x82\xac"))
    assert.are.equal('"\\255x"', format("\255x")) -- not UTF-8: the byte is escaped
    -- every quoted string reads back as the same string
    for _, s in ipairs({ "a\0b", "\1\2\3", "\127", "q\"q", "x\255\254", "\r\n" }) do
      assert.are.equal(s, load("return " .. format(s))())
    end
  end)

  it("uses colour only when asked", function()
    local v = { s = "x", n = 1, b = true, z = telnyx.null }
    assert.falsy(plain_find(format(v), "\27["))
    local colored = format(v, { color = true })
    assert.truthy(plain_find(colored, '\27[32m"x"\27[0m'))
    assert.are.equal(format(v), (colored:gsub("\27%[[%d;]*m", "")))
  end)

  it("hides the values of secret fields", function()
    local out = format({ password = "hunter2", sip_password = "s1", token = "t0k",
                         integration_secret = "abc", api_key = "KEYX", user_name = "bob" })
    for _, secret in ipairs({ "hunter2", "s1", "t0k", "abc", "KEYX" }) do
      assert.falsy(plain_find(out, secret), secret)
    end
    assert.truthy(plain_find(out, 'user_name = "bob"'))
    assert.truthy(plain_find(out, "password = [redacted]"))
    assert.truthy(plain_find(format({ password = "p" }, { redact = false }), '"p"'))
  end)

  describe("with telnyx values", function()
    local m, client
    setup(function()
      m = mock.start {}
      client = telnyx.new { api_key = KEY, base_url = m.url, max_retries = 0 }
    end)
    teardown(function()
      if client then client:close() end
      if m then m:stop() end
    end)

    it("shows an error object's type, status, message and request id", function()
      local ok, err = pcall(client.billing_groups.retrieve, client.billing_groups, "nope")
      assert.is_false(ok)
      local out = format(err, { width = 100 })
      assert.matches("^NotFoundError {", out)
      assert.truthy(plain_find(out, "status = 404"))
      assert.truthy(plain_find(out, 'message = "' .. err.message .. '"'))
      assert.truthy(plain_find(out, 'request_id = "' .. err.request_id .. '"'))
      assert.falsy(plain_find(out, KEY))
    end)

    it("shows a client by its base URL, never the key", function()
      local out = format({ c = client })
      assert.truthy(plain_find(out, m.url))
      assert.falsy(plain_find(out, KEY))
    end)

    it("shows what a pager, a resource and a method are, not their addresses", function()
      local pager = client.billing_groups:list { page = { size = 3 } }
      local out = format(pager)
      assert.matches("^telnyx%.Pager %(billing_groups:list, 0 pages fetched%)", out)
      assert.truthy(plain_find(out, "size = 3"))
      pager:collect(1)
      assert.truthy(plain_find(format(pager), "1 page fetched"))
      assert.truthy(plain_find(format(client.billing_groups),
                               table.concat(methods_of("billing_groups"), ", ")))
      assert.are.equal("<method billing_groups:create POST /billing_groups>",
                       format(client.billing_groups.create))
      for _, v in ipairs({ pager, client.billing_groups, client.billing_groups.create }) do
        assert.falsy(plain_find(format(v), "0x"))
      end
    end)

    it("completes without calling methods or sending requests", function()
      m:clear_requests()
      local env = { client = client, string = string, print = print }
      assert.are.same({ "string.format" }, repl.complete("string.fo", env))
      assert.are.same({ "client.billing_groups" }, repl.complete("client.bil", env))
      local want = {}
      for i, name in ipairs(methods_of("billing_groups")) do want[i] = "client.billing_groups:" .. name end
      table.sort(want)
      assert.are.same(want, repl.complete("client.billing_groups:", env))
      assert.are.same({ "client.addresses.actions" }, repl.complete("client.addresses.ac", env))
      local after_dot = repl.complete("client.addresses.", env)
      assert.truthy(plain_find(table.concat(after_dot, " "), "client.addresses.actions"))
      assert.are.same({ "client.credential_connections.actions:check_registration_status" },
                      repl.complete("client.credential_connections.actions:", env))
      -- a resource's own methods only after ':', its children after '.'
      assert.are.same({}, repl.complete("client.addresses:ac", env))
      -- pager methods through its metatable
      env.p = client.billing_groups:list()
      assert.are.same({ "p:collect" }, repl.complete("p:col", env))
      -- keywords and globals; nothing for unknown or non-name prefixes
      assert.are.same({ "print" }, repl.complete("pri", env))
      assert.are.same({ "function" }, repl.complete("functi", env))
      assert.are.same({}, repl.complete("nosuch.x", env))
      assert.are.same({}, repl.complete("client.nosuch:", env))
      assert.are.equal(0, #m:requests())
    end)

    it("completes parameter names inside a call's table, from the operation's entry", function()
      m:clear_requests()
      local env = { client = client }
      local function names(text, before) return repl.complete(text, env, before) end
      assert.are.same({ "ip_address" }, names("ip_", "client.access_ip_address:create{"))
      assert.are.same({ "description", "ip_address" },
                      names("", 'client.access_ip_address:create{ip_address = "203.0.113.7", '))
      assert.are.same({ "ip_address", "ip_source" }, names("ip_", "client.access_ip_address:list{filter={"))
      assert.are.same({ "gt", "gte", "lt", "lte" },
                      names("", "client.access_ip_address:list{filter = {created_at = {"))
      assert.are.same({ "filter", "page" }, names("", "client.access_ip_address:list{"))
      assert.are.same({ "size" }, names("s", "p = client.access_ip_address:list({page = {"))
      local op = find_op("billing_groups", "update")
      local want = {}
      for _, f in ipairs(op.body.fields) do want[#want + 1] = f.name end
      table.sort(want)
      assert.are.same(want, names("", 'client.billing_groups:update("id-1", {'))
      -- a value position, a string, or no call: the usual completion
      assert.are.same({ "client" }, names("cli", "client.access_ip_address:create{ip_address = "))
      assert.are.same({}, names("ip_", 'print("client.access_ip_address:create{'))
      assert.are.same({}, names("ip_", "t = {"))
      assert.are.equal(0, #m:requests())
    end)

    it("shows a pager's first page for the REPL, then iterates it from the first item", function()
      m:reset()
      finally(function() m:reset() end)
      m:seed("billing_groups", 7)
      local p = client.billing_groups:list { page = { size = 3 } }
      local shown = repl.format(p, { pages = true, width = 100 })
      local first = client.billing_groups:list { page = { size = 3 } }:collect(3)
      assert.truthy(plain_find(shown, "page 1 of 3"), shown)
      for _, item in ipairs(first) do assert.truthy(plain_find(shown, item.id), item.id) end
      assert.truthy(plain_find(shown, "for item in p do ... end"))
      assert.truthy(plain_find(shown, "p:collect()"))
      local n = 0
      for item in p do
        n = n + 1
        if n == 1 then assert.are.equal(first[1].id, item.id) end
      end
      assert.are.equal(7, n)
      -- without pages = true a pager is only described, and nothing is fetched
      m:clear_requests()
      assert.falsy(plain_find(repl.format(client.billing_groups:list()), "page 1"))
      assert.are.equal(0, #m:requests())
    end)

    it("never runs an __index function of other values while completing", function()
      local called = false
      local env = { t = setmetatable({ own = 1 }, { __index = function() called = true end }) }
      assert.are.same({ "t.own" }, repl.complete("t.", env))
      assert.are.same({}, repl.complete("t.own.x", env))
      assert.is_false(called)
    end)
  end)
end)

describe("telnyx.repl.help_text", function()
  local client = telnyx.new { api_key = KEY, base_url = "http://127.0.0.1:9/v2" }

  -- A help line fits the width, unless it is an example call (code is not broken up) or a
  -- single word too long for any line (a URL).
  local function fits(line, width)
    return #line <= width or line:match("^  client%.") ~= nil or line:match("^%s*%S+$") ~= nil
  end

  it("describes every method from the spec: HTTP method, path, required fields, example", function()
    for _, op in ipairs(resources.operations) do
      local res = client
      for part in op.resource:gmatch("[^.]+") do res = res[part] end
      local text = repl.help_text(res[op.method], { width = 100 })
      local label = op.resource .. "." .. op.method
      assert.truthy(plain_find(text, op.http_method .. " " .. op.path), label)
      assert.truthy(plain_find(text, "client." .. op.resource .. ":" .. op.method .. "("), label)
      for _, name in ipairs(op.body and op.body.required or {}) do
        assert.truthy(plain_find(text, "  " .. name .. "  (") and text:find(name .. "  %([^)]*required"), label .. " " .. name)
      end
      for _, q in ipairs(op.query or {}) do assert.truthy(plain_find(text, q.name), label .. " " .. q.name) end
      -- the example line calls the method and runs as Lua syntax
      local example = text:match("\nExample:\n  ([^\n]+)")
      assert.truthy(example, label)
      assert.truthy(load(example), label .. ": " .. example)
      for line in text:gmatch("[^\n]+") do assert.truthy(fits(line, 100), label .. ": " .. line) end
    end
  end)

  it("gives the call's shape, enums, defaults and an example from the required fields", function()
    local text = repl.help_text(client.billing_groups.create, { width = 100 })
    -- no required field: an empty call is accepted (it sends {}), so params is optional
    assert.truthy(plain_find(text, "client.billing_groups:create([params [, opts]])"))
    assert.truthy(plain_find(text, 'client.billing_groups:create{name = "..."}'))
    text = repl.help_text(client.messages.send, { width = 100 })
    assert.truthy(plain_find(text, "client.messages:send(params [, opts])")) -- `to` is required
    text = repl.help_text(client.addresses.actions.accept_suggestions, { width = 100 })
    assert.truthy(plain_find(text, "accept_suggestions(id [, params [, opts]])"))
    text = repl.help_text(client.addresses.list, { width = 100 })
    assert.truthy(plain_find(text, "list([params [, opts]])"))
    local sort = nil
    for _, q in ipairs(find_op("addresses", "list").query) do if q.name == "sort" then sort = q end end
    assert.truthy(plain_find(text, 'default "' .. sort.default .. '"'))
    for _, e in ipairs(sort.enum) do assert.truthy(plain_find(text, '"' .. e .. '"')) end
    assert.falsy(plain_find(text, "<code>"))  -- HTML of the spec is shown as text
    text = repl.help_text(client.addresses.create, { width = 100 })
    local op = find_op("addresses", "create")
    for _, name in ipairs(op.body.required) do
      assert.truthy(text:match("Example:\n  client%.addresses:create{[^\n]*" .. name .. " = "), name)
    end
  end)

  it("wraps long descriptions to the width", function()
    for _, width in ipairs({ 60, 100 }) do
      local text = repl.help_text(client.credential_connections.create, { width = width })
      for line in text:gmatch("[^\n]+") do assert.truthy(fits(line, width), line) end
    end
  end)

  it("lists a resource's methods with summaries, and a client's resources", function()
    local text = repl.help_text(client.billing_groups, { width = 120 })
    for _, name in ipairs(methods_of("billing_groups")) do
      local op = find_op("billing_groups", name)
      assert.truthy(text:find("\n  " .. name .. " +" .. op.http_method .. " +" .. op.path:gsub("%p", "%%%0")
                              .. " +" .. op.summary:gsub("%p", "%%%0")), name)
    end
    assert.truthy(plain_find(repl.help_text(client.addresses), "client.addresses.actions"))
    text = repl.help_text(client, { width = 120 })
    assert.truthy(plain_find(text, "http://127.0.0.1:9/v2"))
    assert.falsy(plain_find(text, KEY))
    for _, r in ipairs(resources.resources) do
      assert.truthy(plain_find(text, r.name .. " "), r.name)
    end
    text = repl.help_text(telnyx)
    for _, name in ipairs({ "telnyx.new", "telnyx.map", "telnyx.is_error", "help(client)" }) do
      assert.truthy(plain_find(text, name), name)
    end
  end)
end)

---------------------------------------------------------------------------
-- The binary on a terminal
---------------------------------------------------------------------------

describe("the REPL on a terminal", function()
  local m
  local terms, dirs = {}, {}

  setup(function() m = mock.start {} end)
  teardown(function() if m then m:stop() end end)
  after_each(function()
    for _, t in ipairs(terms) do t:stop() end
    for _, d in ipairs(dirs) do cli.rmdir(d) end
    terms, dirs = {}, {}
  end)

  -- A REPL with its own HOME; env adds to (or with false removes from) the defaults.
  local function start_repl(env, opts)
    local home = cli.tmpdir()
    dirs[#dirs + 1] = home
    local full = { HOME = home, TELNYX_API_KEY = KEY, TELNYX_BASE_URL = m.url, NO_COLOR = "1",
                   INPUTRC = "/dev/null", COLUMNS = false, TELNYX_CUSTOM_HEADERS = false }
    for k, v in pairs(env or {}) do full[k] = v end
    local t = pty.start { cli.HOST, env = full, width = (opts and opts.width) or 120 }
    terms[#terms + 1] = t
    t.home = home
    t:wait_for("\n> ", { since = 0 })
    return t
  end

  -- Clears the line being edited and waits until the terminal shows the bare prompt, so a mark
  -- taken next is not ahead of the shorter line.
  local function clear_line(t)
    t:keys("C-u")
    t:wait_for("\n>%s*$", { pattern = true })
  end

  -- Sends a line and waits for `expect` in what follows it.
  local function run(t, line, expect, opts)
    local mark = t:mark()
    t:line(line)
    opts = opts or {}
    opts.since = mark
    return t:wait_for(expect, opts):sub(mark + 1)
  end

  it("greets with the base URL and how to get help, never the key", function()
    local t = start_repl()
    local screen = t:screen()
    assert.matches("^telnyx%-lua %d+%.%d+%.%d+ %(Lua 5%.4", screen)
    assert.truthy(plain_find(screen, m.url))
    assert.truthy(plain_find(screen, "help(client)"))
    assert.falsy(plain_find(screen, KEY))
    run(t, "=client", m.url)
    assert.falsy(plain_find(t:screen(), KEY))
    run(t, "=type(telnyx.new)", '"function"')
  end)

  it("without a key says so and how to set it", function()
    local t = start_repl { TELNYX_API_KEY = false }
    local screen = t:screen()
    assert.truthy(plain_find(screen, "TELNYX_API_KEY is not set"))
    assert.truthy(plain_find(screen, "telnyx.new{api_key"))
    run(t, "=client", "nil")
    run(t, "=telnyx.VERSION", '"' .. telnyx.VERSION .. '"')
  end)

  it("completes globals, fields and client methods with Tab", function()
    local t = start_repl()
    t:send("client.bil")
    t:keys("Tab")
    t:wait_for("> client.billing_groups")
    local mark = t:mark()
    t:send(":")
    t:keys("Tab", "Tab")
    local listing = t:wait_for("retrieve", { since = mark }):sub(mark + 1)
    for _, name in ipairs(methods_of("billing_groups")) do
      assert.truthy(listing:find("%f[%w_]" .. name .. "%f[^%w_]"), name)
    end
    clear_line(t)
    mark = t:mark()
    t:send("string.fo")
    t:keys("Tab")
    t:wait_for("string.format", { since = mark })
    clear_line(t)
    mark = t:mark()
    t:send("client.addresses.")
    t:keys("Tab", "Tab")
    t:wait_for("actions", { since = mark })
    clear_line(t)
    run(t, "=1+1", "\n2\n")
    assert.are.equal(0, #m:requests(), "completion sent a request")
  end)

  it("completes parameter names inside a call's table with Tab", function()
    m:clear_requests()
    local t = start_repl()
    local mark = t:mark()
    t:send("x = client.access_ip_address:create{ip_")
    t:keys("Tab")
    t:wait_for("create{ip_address", { since = mark })
    clear_line(t)
    mark = t:mark()
    t:send("x = client.access_ip_address:list{filter = {ip_")
    t:keys("Tab", "Tab")
    local listing = t:wait_for("ip_source", { since = mark }):sub(mark + 1)
    assert.truthy(plain_find(listing, "ip_address"))
    clear_line(t)
    run(t, "=1+1", "\n2\n")
    assert.are.equal(0, #m:requests(), "completion sent a request")
  end)

  it("shows a list call's first page and how to get the rest", function()
    m:reset()
    m:seed("billing_groups", 30)
    local t = start_repl()
    finally(function() m:reset() end)
    local out = run(t, "client.billing_groups:list{page = {size = 4}}", "help(p)")
    assert.truthy(plain_find(out, "page 1 of 8"), out)
    assert.truthy(plain_find(out, "p:collect()"), out)
    local ids = 0
    for _ in out:gmatch('\n    id = "') do ids = ids + 1 end
    assert.are.equal(4, ids, out)
    run(t, "p = client.billing_groups:list{page = {size = 4}} n = 0 for _ in p do n = n + 1 end print('n=' .. n)",
        "n=30")
  end)

  it("shows help for one method of each resource, and for resources", function()
    m:clear_requests()
    local t = start_repl({}, { width = 200 })
    for _, r in ipairs(resources.resources) do
      -- a method with required body fields when the resource has one
      local op
      for _, name in ipairs(r.methods) do
        local o = find_op(r.name, name)
        if op == nil or (o.body and #o.body.required > 0 and not (op.body and #op.body.required > 0)) then
          op = o
        end
      end
      local out = run(t, "help(client." .. r.name .. "." .. op.method .. ")", "applies to one call")
      assert.truthy(plain_find(out, op.http_method .. " " .. op.path), r.name)
      for _, field in ipairs(op.body and op.body.required or {}) do
        assert.truthy(out:find(field .. "  %([^)]*required"), r.name .. " " .. field)
      end
    end
    local out = run(t, "help(client.billing_groups)", "shows one method")
    for _, name in ipairs(methods_of("billing_groups")) do assert.truthy(plain_find(out, "  " .. name .. " "), name) end
    assert.are.equal(0, #m:requests(), "help sent a request")
  end)

  it("pretty-prints results: indented, sorted, long arrays elided, [] for JSON arrays", function()
    local t = start_repl()
    run(t, "t = {zeta = 'z', alpha = {b = 2, a = 1, more = {x = {y = {}}}}, list = {}}"
      .. " for i = 1, 25 do t.list[i] = ('item-%02d'):format(i) end", "\n> ")
    local out = run(t, "=t", "\n> ")
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    local alpha, list, zeta
    for i, line in ipairs(lines) do
      if line:match("^  alpha = ") then alpha = i end
      if line:match("^  list = {") then list = i end
      if line:match('^  zeta = "z"') then zeta = i end
    end
    assert.truthy(alpha and list and zeta, out)
    assert.truthy(alpha < list and list < zeta, out)
    assert.truthy(plain_find(out, "item-20"))
    assert.falsy(plain_find(out, "item-21"))
    assert.truthy(plain_find(out, "... (5 more)"))
    out = run(t, [[=telnyx.json.decode('{"data":[],"meta":{"total_pages":0}}')]], "\n> ")
    assert.truthy(plain_find(out, "data = []"), out)
    out = run(t, "=client.billing_groups:list():collect()", "\n> ")
    assert.truthy(plain_find(out, "\n{}\n"), out) -- collect builds a plain (non-JSON) table
    out = run(t, [[="two\nlines", 42, nil]], "\n> ")
    assert.truthy(plain_find(out, '"two\\nlines"\n42\nnil\n'), out)
    -- list() returns pager, nil, nil, pager (for a closing value): shown as the one pager, with
    -- its first page (here empty)
    out = run(t, "client.billing_groups:list()", "\n> ")
    assert.truthy(plain_find(out, "telnyx.Pager (billing_groups:list, 1 page fetched, done)\n(no items)\n> "), out)
    assert.falsy(plain_find(out, "nil"), out)
  end)

  it("shows a record's null field as null, while in code it reads as nil", function()
    local t = start_repl()
    run(t, "bg = client.billing_groups:create{name = 'nulls'}.data", "\n> ")
    local out = run(t, "=bg", "\n> ")
    assert.truthy(plain_find(out, "deleted_at = null"), out)
    out = run(t, "=bg.deleted_at == nil, (bg.deleted_at and 'truthy' or 'falsy'), tostring(telnyx.null)", "\n> ")
    assert.truthy(plain_find(out, 'true\n"falsy"\n"null"\n'), out)
    out = run(t, "=telnyx.json.encode(bg):find('\"deleted_at\":null', 1, true) ~= nil", "\n> ")
    assert.truthy(plain_find(out, "\ntrue\n"), out)
  end)

  it("prints a raised error as one line, and an error value with type, status and message", function()
    local t = start_repl()
    local out = run(t, 'client.billing_groups:retrieve("nope")', "\n> ")
    assert.truthy(plain_find(out, "NotFoundError: 404 GET /v2/billing_groups/nope: "), out)
    assert.falsy(plain_find(out, "traceback"))
    assert.falsy(plain_find(out, "stack"))
    out = run(t, 'ok, e = pcall(client.billing_groups.retrieve, client.billing_groups, "nope")', "\n> ")
    out = run(t, "=e", "\n> ")
    assert.truthy(plain_find(out, "NotFoundError {"), out)
    assert.truthy(plain_find(out, "status = 404"), out)
    assert.truthy(out:find('message = "[^"\n]+"'), out)
    assert.truthy(out:find('request_id = "[%x-]+"'), out)
    out = run(t, 'error("plain failure")', "\n> ")
    assert.truthy(plain_find(out, "stdin:1: plain failure\n"), out)
  end)

  it("writes history 0600 without the lines holding the API key, umask untouched", function()
    local t = start_repl()
    local umask_file = t.home .. "/umask"
    run(t, "marker_one = 1", "\n> ")
    run(t, 'c2 = telnyx.new{api_key = "literal-key-123"}', "\n> ")
    run(t, '=#"' .. KEY .. '"', "\n" .. #KEY .. "\n")
    run(t, "=marker_one + 1", "\n2\n")
    run(t, 'os.execute("umask > ' .. umask_file .. '")', "\n> ")
    t:keys("C-d")
    assert.are.equal(0, t:wait_exit())
    local path = t.home .. "/.telnyx_lua_history"
    local mode = cli.run { "stat", "-c", "%a", path }
    assert.are.equal("600\n", mode.stdout)
    local history = assert(cli.read_file(path))
    assert.truthy(plain_find(history, "marker_one = 1\n"))
    assert.truthy(plain_find(history, "=marker_one + 1\n"))
    assert.falsy(plain_find(history, KEY))
    assert.falsy(plain_find(history, "literal-key-123"))
    local expected_umask = cli.shell("umask").stdout
    assert.are.equal(expected_umask, cli.read_file(umask_file))
  end)

  it("Ctrl-C at the prompt clears the line and keeps the REPL", function()
    local t = start_repl()
    t:send("this would be a syntax error")
    t:wait_for("syntax error")
    t:keys("C-c")
    local out = run(t, "=6*7", "\n42\n")
    assert.falsy(plain_find(out, "syntax"))
    -- also in the middle of a multi-line statement
    run(t, "for i = 1, 2 do", ">> ")
    t:keys("C-c")
    run(t, "=7*7", "\n49\n")
    assert.is_nil(t:status())
  end)

  it("Ctrl-C during a hanging request returns to the prompt, and the next request works", function()
    local t = start_repl()
    m:clear_requests()
    m:fault { method = "GET", path = "/v2/billing_groups/", action = "hang" }
    local mark = t:mark()
    t:line('=client.billing_groups:retrieve("hangs")')
    local deadline = socket.gettime() + 10
    while #m:requests() == 0 and socket.gettime() < deadline do socket.sleep(0.02) end
    assert.are.equal(1, #m:requests(), "the request never reached the mock")
    local started = socket.gettime()
    t:keys("C-c")
    local out = t:wait_for("interrupted", { since = mark, timeout = 10 }):sub(mark + 1)
    assert.truthy(socket.gettime() - started < 10)
    assert.falsy(plain_find(out, "traceback"))
    run(t, '=client.billing_groups:create{name = "after"}.data.name', '"after"')
    run(t, "=1+1", "\n2\n")
    assert.is_nil(t:status())
    m:clear_faults()
  end)

  it("Ctrl-D exits with status 0", function()
    local t = start_repl()
    t:keys("C-d")
    assert.are.equal(0, t:wait_exit())
  end)

  it("uses colour on a terminal unless NO_COLOR is set or TERM is dumb", function()
    -- What the REPL prints for one value, escape sequences kept.
    local function shown(env)
      local t = start_repl(env)
      local mark = t:mark { escapes = true }
      t:line('=({"green", 1})')
      return t:wait_for("\n> ", { since = mark, escapes = true }):sub(mark + 1)
    end
    local out = shown { NO_COLOR = false }
    assert.truthy(out:find("\27%[[%d;]*m"), out)
    for _, env in ipairs { { NO_COLOR = "1" }, { NO_COLOR = false, TERM = "dumb" } } do
      out = shown(env)
      assert.truthy(plain_find(out, '{ "green", 1 }'), out)
      assert.falsy(out:find("\27%[[%d;]*m"), out)
    end
  end)
end)

describe("the REPL without a terminal", function()
  it("runs piped input as lua5.4 does: no colour, no pretty printing, no history file", function()
    local home = cli.tmpdir()
    local r = cli.run { cli.HOST, "-i", stdin = '="s"\nprint(type(telnyx), type(help))\n',
                        env = { HOME = home, TERM = "xterm", TELNYX_API_KEY = KEY,
                                TELNYX_BASE_URL = "http://127.0.0.1:9/v2", INPUTRC = "/dev/null" } }
    local history = cli.read_file(home .. "/.telnyx_lua_history")
    cli.rmdir(home)
    assert.are.equal(0, r.status)
    assert.are.equal("", r.stderr)
    assert.falsy(plain_find(r.stdout, "\27["))
    assert.falsy(plain_find(r.stdout, KEY))
    assert.truthy(plain_find(r.stdout, "\ns\n"), r.stdout)
    assert.truthy(plain_find(r.stdout, "table\tfunction\n"), r.stdout)
    assert.is_nil(history)
  end)
end)

describe("the REPL's Lua modules", function()
  -- The telnyx modules loaded once `code` has run: by -e, or typed into the REPL (piped).
  local LOADED = [[local t = {} for k in pairs(package.loaded) do if k:match("^telnyx") then ]] ..
    [[t[#t + 1] = k end end table.sort(t) print("loaded: " .. table.concat(t, " "))]]
  local function loaded_after(code, repl)
    local r
    if repl then
      r = cli.run { cli.HOST, "-i", stdin = code .. "\n" .. LOADED .. "\n",
                    env = { TELNYX_API_KEY = false, INPUTRC = "/dev/null" } }
    else
      r = cli.run { cli.HOST, "-e", code .. "\n" .. LOADED }
    end
    assert.are.equal(0, r.status, r.stderr)
    return assert(("\n" .. r.stdout):match("\nloaded: ([^\n]*)\n"), r.stdout) -- not the echo
  end

  it("load only when used: none for a script, the session for the REPL, the rest on demand", function()
    assert.are.equal("", loaded_after(""))
    assert.are.equal("telnyx", loaded_after('require "telnyx"'))
    assert.are.equal("telnyx telnyx.repl telnyx.util", loaded_after("", true))
    assert.are.equal("telnyx telnyx.help telnyx.printer telnyx.repl telnyx.util",
                     loaded_after("help(1)", true))
    assert.are.equal("telnyx telnyx.printer telnyx.repl telnyx.util",
                     loaded_after('x = require("telnyx.repl").format(1)', true))
    assert.are.equal("telnyx telnyx.complete telnyx.repl telnyx.util",
                     loaded_after('x = require("telnyx.repl").complete("pri")', true))
  end)

  it("keep the module's internal fields out of help() and completion", function()
    assert.is_function(telnyx._is_secret_key)
    assert.falsy(plain_find(repl.help_text(telnyx), "_is_secret_key"))
    assert.are.same({}, repl.complete("telnyx._", { telnyx = telnyx }))
    assert.are.same({ "telnyx.is_error" }, repl.complete("telnyx.is", { telnyx = telnyx }))
  end)
end)

describe("GNU readline", function()
  it("is not loaded by a script, only by the REPL", function()
    local maps = [[local f = assert(io.open("/proc/self/maps")); local m = f:read("a"); f:close()
                   print(m:find("libreadline", 1, true) and "loaded" or "not loaded")]]
    local r = cli.run { cli.HOST, "-e", maps }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal("not loaded\n", r.stdout)
    r = cli.run { cli.HOST, "-i", stdin = maps:gsub("\n%s*", " ") .. "\n", env = { INPUTRC = "/dev/null" } }
    assert.are.equal(0, r.status, r.stderr)
    assert.truthy(plain_find(r.stdout, "\nloaded\n") or r.stdout:find("^loaded\n"), r.stdout)
  end)

  it("missing, makes the REPL say what it needs and exit 1, and leaves scripts alone", function()
    local dir = cli.tmpdir()
    local f = assert(io.open(dir .. "/libreadline.so.8", "w")) -- found first, and not a library
    f:write("not a library\n")
    f:close()
    local env = { LD_LIBRARY_PATH = dir }
    local repl = cli.run { cli.HOST, "-i", stdin = "print(1)\n", env = env }
    local script = cli.run { cli.HOST, "-e", "print(1)", env = env }
    cli.rmdir(dir)
    assert.are.equal(1, repl.status)
    assert.truthy(plain_find(repl.stderr, "telnyx-lua: the REPL needs GNU readline (package libreadline8): "),
                  repl.stderr)
    assert.truthy(plain_find(repl.stderr, "libreadline.so.8"), repl.stderr)
    assert.are.equal(0, script.status, script.stderr)
    assert.are.equal("1\n", script.stdout)
  end)
end)
