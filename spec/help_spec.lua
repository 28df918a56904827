-- telnyx.help from scripts and stock lua5.4, the return shapes it states, and the host's
-- --help and --version.
local cli = require "spec.support.cli"
local telnyx = require "telnyx"
local help = require "telnyx.help"

local function plain_find(haystack, needle) return haystack:find(needle, 1, true) ~= nil end

-- Every operation of the table, through the help module's accessor (both table layouts).
local function all_ops()
  local ops = {}
  for _, name in ipairs(help.resource_names()) do
    for _, method in ipairs(help.methods_of(name)) do
      ops[#ops + 1] = assert(help.operation(name, method), name .. "." .. method)
    end
  end
  return ops
end

local function is_list(op) return op.pagination ~= nil end

describe("telnyx.help", function()
  local client = telnyx.new { api_key = "KEYhelpSPEC0123456789", base_url = "http://127.0.0.1:9/v2" }

  it("returns the same text for a method value and for its name", function()
    local by_value = telnyx.help(client.billing_groups.create)
    assert.is_string(by_value)
    assert.are.equal(by_value, telnyx.help("billing_groups.create"))
    assert.are.equal(by_value, telnyx.help("client.billing_groups:create"))
    assert.truthy(plain_find(by_value, "POST /billing_groups"))
    assert.are.equal(telnyx.help(client.addresses), telnyx.help("addresses"))
  end)

  it("with no argument describes the module, telnyx.help included; nil says there is nothing", function()
    local text = telnyx.help()
    assert.truthy(plain_find(text, "telnyx.help([x])"))
    assert.truthy(plain_find(text, "telnyx.new"))
    assert.truthy(plain_find(telnyx.help(nil), "nothing to describe"))
    assert.truthy(plain_find(telnyx.help("no_such_thing.at_all"), "no resource or method named"))
  end)

  it("gives every public field of the module an entry of its own, telnyx.new with every option", function()
    local text = telnyx.help(telnyx, { width = 1000 })
    assert.falsy(plain_find(text, "A function."))
    for _, opt in ipairs({ "api_key", "base_url", "timeout", "max_retries", "headers", "connect_timeout",
                           "ca_bundle", "proxy" }) do
      assert.truthy(text:match("telnyx%.new{[^}]*%f[%w_]" .. opt .. " =[^}]*}"), opt)
    end
    assert.truthy(plain_find(text, "telnyx.file(path [, {filename =, content_type =}])"))
    assert.truthy(plain_find(text, "telnyx.file{data =, filename =, content_type =}"))
  end)

  it("describes the module's functions and values given themselves", function()
    local file = telnyx.help(telnyx.file)
    assert.matches("^telnyx%.file%(path", file)
    assert.truthy(plain_find(file, "multipart/form-data") and plain_find(file, "octet-stream"))
    assert.matches("^telnyx%.json%.nulls%(t%)\n.*null fields", telnyx.help(telnyx.json.nulls))
    assert.matches("^telnyx%.json%.array", telnyx.help(telnyx.json.array))
    assert.matches("^telnyx%.new{", telnyx.help(telnyx.new))
    assert.matches("^telnyx%.null\n", telnyx.help(telnyx.null))
  end)

  it("shows params as required exactly when a call without them is refused", function()
    -- A child with no API key: a call the binding accepts stops at the key check (an error
    -- object, or a pager that fetches nothing), one it refuses raises a plain string first.
    local r = cli.run { cli.HOST, "-e", [[
      local telnyx = require "telnyx"
      local help = require "telnyx.help"
      local c = telnyx.new { base_url = "http://127.0.0.1:9/v2" }
      local n = 0
      for _, name in ipairs(help.resource_names()) do
        local res = c
        for part in name:gmatch("[^.]+") do res = res[part] end
        for _, method in ipairs(help.methods_of(name)) do
          local op = help.operation(name, method)
          local pos = op.positional or op.path_param
          local sig = telnyx.help(name .. "." .. method, { width = 10000 }):match("^[^%c]*")
          local shows = sig:find("params", 1, true) ~= nil and not sig:find("%[,? ?params")
          local ok, err = pcall(res[method], res, pos and "x1" or nil)
          local refused = not ok and type(err) == "string"
          -- A required query parameter is left to the API to refuse, but help shows it too.
          local query_required = false
          for _, q in ipairs(op.query or {}) do query_required = query_required or q.required == true end
          if shows ~= (refused or query_required) then print(sig, tostring(err)) end
          n = n + 1
        end
      end
      print("checked " .. n)
    ]] }
    assert.are.equal(0, r.status, r.stderr)
    assert.matches("^checked %d%d%d+\n$", r.stdout)
  end)

  it("states every method's return shape", function()
    for _, op in ipairs(all_ops()) do
      -- wide: a long resource name must not wrap the phrases looked for
      local text = telnyx.help(op.resource .. "." .. op.method, { width = 1000 })
      local label = op.resource .. "." .. op.method
      if is_list(op) then
        assert.truthy(plain_find(text, "Returns a telnyx.Pager"), label)
        assert.truthy(plain_find(text, "over the " .. op.resource .. " records"), label)
      elseif op.response == "none" or (op.response == nil and op.success and op.success[1] == 204) then
        assert.truthy(plain_find(text, "Returns nil"), label)
      elseif op.response == "text" or (op.accept or ""):match("^text/") then
        assert.truthy(plain_find(text, "as a string"), label)
      elseif op.response == "binary" then
        assert.truthy(plain_find(text, "as a string of bytes"), label)
      elseif op.wrapped then
        assert.truthy(plain_find(text, "{data = <record>}"), label)
      else
        assert.truthy(plain_find(text, "the bare record with no data wrapper"), label)
      end
    end
  end)

  it("names the two shapes the README promises", function()
    assert.truthy(plain_find(telnyx.help(client.billing_groups.create), "{data = <record>}"))
    assert.truthy(plain_find(telnyx.help(client.access_ip_address.create), "no data wrapper"))
    assert.truthy(plain_find(telnyx.help(client.integration_secrets.delete), "Returns nil"))
  end)

  it("tells, for every list, that changing a collection while paging shifts pages, and the safe way", function()
    for _, op in ipairs(all_ops()) do
      if is_list(op) then
        local text = telnyx.help(op.resource .. "." .. op.method, { width = 100 })
        assert.truthy(plain_find(text, "shifts the later pages"), op.resource)
        assert.truthy(plain_find(text, "pager:ids()"), op.resource)
        assert.truthy(plain_find(text, "local ids = client." .. op.resource .. ":" ..
                                   op.method .. "{...}:ids()"), op.resource)
      end
    end
    local text = telnyx.help("access_ip_address.list")
    assert.truthy(plain_find(text, "for _, id in ipairs(ids) do client.access_ip_address:delete(id) end"))
    -- and the code it shows is Lua
    local code = text:match("\n    (local ids[^\n]+\n    for _, id[^\n]+)")
    assert.truthy(load((code:gsub("{%.%.%.}", "{}"):gsub("\n    ", "\n"))))
  end)

  it("shows a parameter's constraints: enum, bounds, default", function()
    local text = telnyx.help("access_ip_address.list", { width = 100 })
    assert.truthy(text:find("page%[size%]  %(integer, optional, default 20, max 250%)"))
  end)

  it("loads nothing at require time, and works from -e and from stock lua5.4 with telnyx.so", function()
    local r = cli.run { cli.HOST, "-e", [[local t = require "telnyx"
      assert(package.loaded["telnyx.help"] == nil and package.loaded["telnyx.resources"] == nil)
      io.write(t.help("billing_groups.create"))]] }
    assert.are.equal(0, r.status, r.stderr)
    assert.are.equal(telnyx.help("billing_groups.create"), r.stdout)
    local s = cli.run { "lua5.4", "-e", "package.cpath = " .. string.format("%q", cli.BUILD .. "/?.so")
      .. [[ local t = require "telnyx" io.write(t.help("billing_groups.create"))]],
      env = { COLUMNS = false } }
    assert.are.equal(0, s.status, s.stderr)
    assert.are.equal(r.stdout, s.stdout)
  end)
end)

describe("telnyx-lua --help and --version", function()
  it("--help shows usage, options, the REPL, the environment and where the docs are, exit 0", function()
    local r = cli.run { cli.HOST, "--help" }
    assert.are.equal(0, r.status)
    assert.are.equal("", r.stderr)
    for _, s in ipairs({ "usage: telnyx-lua [options] [script [args]]", "-e stat", "-l g=mod", "-i ",
                         "-v ", "-E ", "-W ", "--version", "REPL", "TELNYX_API_KEY", "TELNYX_BASE_URL",
                         "TELNYX_LOG", "TELNYX_CUSTOM_HEADERS", "TELNYX_CA_BUNDLE", "README",
                         "man telnyx-lua", "telnyx.help" }) do
      assert.truthy(plain_find(r.stdout, s), s)
    end
  end)

  it("--help names every environment variable the code reads", function()
    local r = cli.run { cli.HOST, "--help" }
    -- Names read through a table, a macro or a computed name, which the scan below cannot see.
    local names = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "TELNYX_MAX_RESPONSE_BYTES",
                    "LUA_INIT_5_4", "LUA_INIT", "LUA_PATH", "LUA_CPATH" }
    local p = assert(io.popen("ls -1 " .. cli.ROOT .. "/src/*.c " .. cli.ROOT .. "/lua/telnyx/*.lua"))
    for path in p:lines() do
      local f = assert(io.open(path, "r"))
      for name in f:read("a"):gmatch('env%("([%w_]+)"%)') do names[#names + 1] = name end
      f:close()
    end
    p:close()
    assert.truthy(#names > 20)
    for _, name in ipairs(names) do
      -- LD_PRELOAD only tells whether valgrind watches (see src/alloc.c): not a setting.
      if name ~= "LD_PRELOAD" then assert.truthy(r.stdout:find("%f[%w_]" .. name .. "%f[^%w_]"), name) end
    end
  end)

  it("--version names telnyx-lua, Lua and libcurl, exit 0; -v stays as before", function()
    local r = cli.run { cli.HOST, "--version" }
    assert.are.equal(0, r.status)
    assert.matches("^telnyx%-lua " .. telnyx.VERSION:gsub("%p", "%%%0") ..
                   " %(Lua 5%.4%.%d+, libcurl %d+%.%d+%.%d+[^)]*%)\n$", r.stdout)
    local v = cli.run { cli.HOST, "-v" }
    assert.matches("^telnyx%-lua %S+ %(Lua 5%.4%.%d+%)\n$", v.stdout)
  end)

  it("runs nothing else: no script, no REPL, options after it unused", function()
    local r = cli.run { cli.HOST, "--version", "-e", "print('ran')", stdin = "print('stdin ran')" }
    assert.are.equal(0, r.status)
    assert.falsy(plain_find(r.stdout, "ran"))
  end)

  it("after the script they are the script's arguments, and other long options stay errors", function()
    local r = cli.run { cli.HOST, "-e", "print(#arg)", "-", "--help", stdin = "print(arg[1])" }
    assert.are.equal(0, r.status, r.stderr)
    assert.truthy(plain_find(r.stdout, "--help"))
    local bad = cli.run { cli.HOST, "--helpme" }
    assert.are.equal(1, bad.status)
    assert.truthy(plain_find(bad.stderr, "unrecognized option '--helpme'"))
  end)
end)
