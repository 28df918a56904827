-- The repository's Markdown documents: every relative link in README.md and
-- scripts/bench/README.md names a file or directory that exists, inside the repository, so a
-- clone has no dead link and none that leads outside it (`../elsewhere/...`).
local cli = require "spec.support.cli"

local DOCUMENTS = { "README.md", "scripts/bench/README.md" }

-- The Markdown text with code left out: fenced blocks, indented blocks (a line indented by 4
-- or more after a blank line, or after another such line) and inline code spans.
local function strip_code(text)
  local out, fence, indented, prev_blank = {}, nil, false, true
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local marker = line:match("^%s*(```+)") or line:match("^%s*(~~~+)")
    if fence then
      if marker and marker:sub(1, 1) == fence:sub(1, 1) and #marker >= #fence then fence = nil end
      line = ""
    elseif marker then
      fence, line = marker, ""
    else
      indented = line:match("^    ") ~= nil and (prev_blank or indented)
      if indented then line = "" end
    end
    prev_blank = line:match("^%s*$") ~= nil
    out[#out + 1] = line
  end
  return (table.concat(out, "\n"):gsub("(`+).-%1", ""))
end

-- The link targets of a Markdown text, in order: inline links and images `[text](target)`
-- and reference definitions `[name]: target`.
local function link_targets(text)
  local targets = {}
  text = "\n" .. strip_code(text)
  for target in text:gmatch("%]%(%s*<?([^%s%)>]+)>?[^%)]*%)") do targets[#targets + 1] = target end
  for target in text:gmatch("\n%s*%[[^%]\n]+%]:%s*<?([^%s>]+)") do
    targets[#targets + 1] = target
  end
  return targets
end

-- The repository-relative path a relative link of the document `doc` names, or nil and why
-- it cannot be one. Nil without a reason: not a relative link (a URL, an anchor).
local function resolve(doc, target)
  if target:match("^%a[%w+.-]*:") or target:sub(1, 1) == "#" then return nil end
  local path = target:gsub("[#?].*$", "")
  if path:sub(1, 1) == "/" then return nil, "an absolute path, outside the repository" end
  local parts = {}
  for part in ((doc:match("^(.*)/[^/]*$") or "") .. "/" .. path):gmatch("[^/]+") do
    if part == ".." then
      if #parts == 0 then return nil, "points outside the repository" end
      parts[#parts] = nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return #parts == 0 and "." or table.concat(parts, "/")
end

-- The problems of the document `doc` (its text given), each "target: why"; and the number
-- of relative links checked. A file or directory opens for reading on Linux either way.
local function check(doc, text)
  local problems, checked = {}, 0
  for _, target in ipairs(link_targets(text)) do
    local path, why = resolve(doc, target)
    if path then
      checked = checked + 1
      local f = io.open(cli.ROOT .. "/" .. path, "r")
      if f then f:close() else why = "no such file or directory: " .. path end
    end
    if why then problems[#problems + 1] = target .. ": " .. why end
  end
  return problems, checked
end

describe("markdown link checker", function()
  it("finds inline links, images and reference definitions, and skips code", function()
    local text = table.concat({
      "See [the bench](scripts/bench/README.md) and ![logo](img/logo.png \"title\").",
      "Not `[code](in/a/span.md)`, nor",
      "",
      "    [indented](code/block.md)",
      "",
      "```lua",
      "x = t[1](fenced)",
      "```",
      "[site](https://example.com) [anchor](#layout) [file](LICENSE#top)",
      "[ref]: spec/",
    }, "\n")
    assert.same({ "scripts/bench/README.md", "img/logo.png", "https://example.com", "#layout",
                  "LICENSE#top", "spec/" }, link_targets(text))
  end)

  it("resolves relative to the document and refuses paths that leave the repository", function()
    assert.equal("src/json.c", resolve("scripts/bench/README.md", "../../src/json.c"))
    assert.equal("scripts/bench/run.lua", resolve("scripts/bench/README.md", "./run.lua"))
    assert.is_nil(resolve("README.md", "https://example.com/x"))
    assert.is_nil(resolve("README.md", "#performance"))
    local path, why = resolve("README.md", "../outside/doc.md")
    assert.is_nil(path)
    assert.matches("outside the repository", why)
    path, why = resolve("scripts/bench/README.md", "../../../x")
    assert.is_nil(path)
    assert.matches("outside the repository", why)
    path, why = resolve("README.md", "/etc/passwd")
    assert.is_nil(path)
    assert.matches("absolute path", why)
  end)

  it("reports a dead link and a link outside the repository", function()
    local problems, checked = check("README.md",
      "[ok](LICENSE) [dead](no/such/file.md) [out](../outside/doc.md) [dir](spec/)")
    assert.equal(3, checked)
    assert.same({ "no/such/file.md: no such file or directory: no/such/file.md",
                  "../outside/doc.md: points outside the repository" }, problems)
  end)
end)

for _, doc in ipairs(DOCUMENTS) do
  describe(doc, function()
    it("has only relative links that resolve inside the repository", function()
      local text = cli.read_file(cli.ROOT .. "/" .. doc)
      local problems, checked = check(doc, text)
      assert.is_true(checked > 0, doc .. " has no relative link: is the checker reading it?")
      assert.same({}, problems)
    end)
  end)
end
