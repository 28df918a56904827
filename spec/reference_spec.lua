-- The API reference (lua/telnyx/REFERENCE.md and lua/telnyx/reference/*.md) is generated from
-- the API table through telnyx.help, and must match what the generator writes now.
local cli = require "spec.support.cli"

local GEN = cli.ROOT .. "/scripts/build/gen-reference.lua"

local function gen(args, opts)
  local argv = { cli.HOST, GEN }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  argv.cwd = (opts and opts.cwd) or cli.ROOT
  argv.env = { COLUMNS = "37" } -- the reference's width is fixed, whatever the terminal
  return cli.run(argv)
end

describe("the generated reference", function()
  it("is up to date with the API table and the help text", function()
    local r = gen { "--check" }
    assert.are.equal(0, r.status, r.stderr)
  end)

  it("has an index with every resource and a page section per resource, with each method's help", function()
    require "telnyx"
    local help = require "telnyx.help"
    local index = assert(cli.read_file(cli.ROOT .. "/lua/telnyx/REFERENCE.md"))
    for _, name in ipairs(help.resource_names()) do
      local top = name:match("^[^.]+")
      assert.truthy(index:find("[`client." .. name .. "`](reference/" .. top .. ".md#client-", 1, true), name)
      local page = assert(cli.read_file(cli.ROOT .. "/lua/telnyx/reference/" .. top .. ".md"), top)
      for _, method in ipairs(help.methods_of(name)) do
        assert.truthy(page:find("### client." .. name .. ":" .. method .. "\n\n```text\n" ..
                                help.help_text(name .. "." .. method, { width = 100 }), 1, true),
                      name .. ":" .. method)
      end
    end
  end)

  it("--check fails on an edited page and on a page no resource has, and says how to regenerate", function()
    local dir = cli.tmpdir()
    finally(function() cli.rmdir(dir) end)
    local out = dir .. "/REFERENCE.md"
    local w = gen { "--out", out }
    assert.are.equal(0, w.status, w.stderr)
    assert.are.equal(0, gen({ "--out", out, "--check" }).status)
    cli.write_file(dir .. "/reference/billing_groups.md", "edited\n")
    local r = gen { "--out", out, "--check" }
    assert.are.equal(1, r.status)
    assert.truthy(r.stderr:find("reference/billing_groups.md", 1, true))
    assert.truthy(r.stderr:find("gen-reference.lua", 1, true))
    assert.are.equal(0, gen({ "--out", out }).status)
    cli.write_file(dir .. "/reference/gone.md", "old\n")
    r = gen { "--out", out, "--check" }
    assert.are.equal(1, r.status)
    assert.truthy(r.stderr:find("gone.md", 1, true))
    assert.are.equal(0, gen({ "--out", out }).status) -- and writing removes it
    assert.is_nil(cli.read_file(dir .. "/reference/gone.md"))
  end)
end)
