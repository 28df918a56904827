#!/usr/bin/env telnyx-lua
--[[
scripts/rotate-ip-allowlist.lua: keeps the account's IP allowlist equal to a file.

  telnyx-lua scripts/rotate-ip-allowlist.lua [--apply] [--concurrency N] [--json]
                                             [--description TEXT] [--allow-empty] FILE

FILE (or `-` for stdin) holds one entry a line; blank lines and `#` comments (whole-line or
trailing) are allowed. An entry with a `/` is a CIDR block (access_ip_ranges, field
cidr_block), any other an address (access_ip_address, field ip_address). Every line is
checked before any request is sent (by the module telnyx.allowlist); a bad line is reported
with its line number and the run exits 2. What counts as valid, and the normal form entries
are compared in:
  - IPv4: four decimal octets 0-255. A leading zero ("010.0.0.1") is refused: some tools
    read it as octal, so the address it means is ambiguous.
  - IPv6: as RFC 4291 writes it (with `::` and a dotted IPv4 tail allowed), no zone index;
    compared and sent in the RFC 5952 form (lower case, no leading zeros, the longest run
    of zero groups as `::`).
  - CIDR: an address, `/`, a prefix length (0-32 for IPv4, 0-128 for IPv6). A block with
    host bits set ("10.0.0.1/24") is refused, naming the network it would be
    ("10.0.0.0/24"): it is most likely a typo, and what the API would make of it is not
    specified. Entries already in the account are compared with their host bits cleared.
  - Duplicates (also in another spelling) are fine; each entry is handled once.

Without --apply it prints the plan (entries to add, remove and keep) and changes nothing.
With --apply: every missing entry is added (concurrently, --concurrency at a time, default
8); an addition the API refuses because the entry already exists counts as done. Only when
every addition succeeded is the allowlist read again and the entries that are not in FILE
removed (make before break: a failed run never leaves fewer of the wanted entries than
before). Running it again changes nothing.

--json prints exactly one JSON object on stdout, and nothing else:
  {"add":[...],"remove":[...],"keep":[...],"applied":true|false,"failures":[...],
   "added":[...],"removed":[...]}
with the entries in their normal form; "add"/"remove"/"keep" is the plan, "added"/"removed"
what this run confirmed done (a partial run lists exactly what it changed); "applied" is true
when --apply was given and the allowlist now matches FILE; each failure is
{"action":"add"|"remove"|"read"|"verify", "entry":..., "status":HTTP status or null,
"error":one line}. The text output's last line says the same: "added N of M, removed K of L".

The server is not trusted to size the work: a list's meta.total_pages must be a page count of
at most 400 (100,000 entries), or the read fails with an error naming it.

An empty FILE with --apply would remove every entry; that needs --allow-empty.

Exit status: 0 done (or plan printed), 1 a request failed (stale entries are then kept) or
the run was interrupted (Ctrl-C: what was done and what was not is printed; run again to
finish), 2 bad usage or a bad line in FILE (nothing sent).
Environment: TELNYX_API_KEY (required), TELNYX_BASE_URL, TELNYX_LOG.
]]

local telnyx = require "telnyx"
local allowlist = require "telnyx.allowlist"
local cli = require "telnyx.cli"

local NAME = "rotate-ip-allowlist.lua"
local PAGE_SIZE = 250 -- the API's maximum page size for both lists
-- The most pages of one list this script reads: 100,000 entries, far beyond any allowlist.
-- A server's meta.total_pages only says how many pages to ask for at once; a claim beyond
-- this (or one that is not a page count) is an error, never a billion jobs.
local MAX_PAGES = 400

-- The two kinds of entries: where each lives in the API and the field that holds it.
local ADDRESS = { name = "address", resource = "access_ip_address", field = "ip_address" }
local RANGE = { name = "range", resource = "access_ip_ranges", field = "cidr_block" }

-- The kinds by the names telnyx.allowlist gives them.
local KINDS = { address = ADDRESS, range = RANGE }

-- key: what identifies the entry in the allowlist (its kind and normal form).
local function new_entry(kind, value)
  return { kind = kind, value = value, key = kind.name .. " " .. value }
end

---------------------------------------------------------------------------
-- FILE
---------------------------------------------------------------------------

-- The entries of FILE in order, each once; nil after reporting every bad line on stderr.
local function read_entries(path)
  local name = path == "-" and "stdin" or path
  local f, err = io.stdin, nil
  if path ~= "-" then f, err = io.open(path, "r") end
  if not f then cli.usage_error("cannot read %s", err) end
  local ok, parsed, bad = pcall(allowlist.parse, f:lines())
  if path ~= "-" then f:close() end
  if not ok then cli.usage_error("cannot read %s: %s", name, cli.error_text(parsed)) end
  for _, b in ipairs(bad) do cli.warn("%s %s", name, b.message) end
  if #bad > 0 then
    cli.warn("%d bad line%s in %s; nothing was sent", #bad, #bad == 1 and "" or "s", name)
    return nil
  end
  local entries = {}
  for i, e in ipairs(parsed) do entries[i] = new_entry(KINDS[e.kind], e.value) end
  return entries
end

---------------------------------------------------------------------------
-- The account
---------------------------------------------------------------------------

-- Raises the first failure of a telnyx.map run, if any.
local function raise_first(failures)
  if #failures > 0 then error(failures[1].error, 0) end
end

-- One page of a list as the API answers it ({data=, meta=}), or nil when it is empty.
local function fetch_page(client, job)
  local pager = client[job.kind.resource]:list{ page = { number = job.number, size = PAGE_SIZE } }
  local page = pager:pages()()
  pager:close()
  return page
end

-- meta.total_pages of a list's first page, checked: an integer from 0 to MAX_PAGES (1 when
-- the API leaves it out). Anything else is raised as a one-line error (a failed read).
local function page_count(kind, meta)
  local n = type(meta) == "table" and meta.total_pages or nil
  if n == nil or n == telnyx.null then return 1 end
  local count = math.type(n) and math.tointeger(n)
  if count == nil or count < 0 then
    error(("the API answered meta.total_pages = %s for %s, which is not a page count")
      :format(cli.printable(tostring(n)):sub(1, 40), kind.resource), 0)
  end
  if count > MAX_PAGES then
    error(("the API claims %s pages of %s (meta.total_pages); this script reads at most %d pages "
           .. "(%d entries): refusing rather than trusting it"):format(("%.0f"):format(n),
           kind.resource, MAX_PAGES, MAX_PAGES * PAGE_SIZE), 0)
  end
  return count
end

-- Every page of both lists, in at most two rounds of concurrent requests: the pages that
-- `expected` ({[kind] = records expected}, optional) says there should be, then any more that
-- the first page's meta.total_pages reveals. Read page after page, a long allowlist would cost
-- a round trip per page.
local function read_pages(client, concurrency, expected)
  local kinds, jobs = { ADDRESS, RANGE }, {}
  local function add_jobs(kind, from, to)
    for number = from, to do jobs[#jobs + 1] = { kind = kind, number = number } end
  end
  for _, kind in ipairs(kinds) do
    add_jobs(kind, 1, math.max(1, math.ceil(((expected or {})[kind] or 0) / PAGE_SIZE)))
  end
  local fetch = function(job) return fetch_page(client, job) end
  local pages, failures = telnyx.map(jobs, fetch, { concurrency = concurrency })
  raise_first(failures)
  local first_round = #jobs
  for _, kind in ipairs(kinds) do
    local asked, total = 0, 1
    for i = 1, first_round do
      if jobs[i].kind == kind then
        asked = asked + 1
        if jobs[i].number == 1 and pages[i] then total = page_count(kind, pages[i].meta) end
      end
    end
    add_jobs(kind, asked + 1, total)
  end
  if #jobs > first_round then
    local more = table.move(jobs, first_round + 1, #jobs, 1, {})
    local more_pages
    more_pages, failures = telnyx.map(more, fetch, { concurrency = concurrency })
    raise_first(failures)
    for i = 1, #more do pages[first_round + i] = more_pages[i] end
  end
  local order, rank = {}, { [ADDRESS] = 1, [RANGE] = 2 }
  for i = 1, #jobs do order[i] = i end
  table.sort(order, function(a, b) -- in API order: each kind's pages by number
    local ja, jb = jobs[a], jobs[b]
    if ja.kind ~= jb.kind then return rank[ja.kind] < rank[jb.kind] end
    return ja.number < jb.number
  end)
  for k, i in ipairs(order) do order[k] = { kind = jobs[i].kind, page = pages[i] } end
  return order
end

-- The allowlist now: {keys = {key...} in API order, by_key = {[key] = entry with ids}}.
-- `expected` as for read_pages. A failure of any read is raised.
local function read_state(client, concurrency, expected)
  local keys, by_key = {}, {}
  for _, p in ipairs(read_pages(client, concurrency, expected)) do
    local kind = p.kind
    for _, item in ipairs(p.page and p.page.data or {}) do
      local raw = item[kind.field]
      local parsed_kind, value
      if type(raw) == "string" then parsed_kind, value = allowlist.normal_form(raw, true) end
      -- A value the API holds that does not parse is kept as it is, so it is never mistaken
      -- for a wanted entry.
      if KINDS[parsed_kind] ~= kind then value = tostring(raw) end
      local key = kind.name .. " " .. value
      local entry = by_key[key]
      if not entry then
        entry = new_entry(kind, value)
        entry.ids = {}
        by_key[key] = entry
        keys[#keys + 1] = key
      end
      entry.ids[#entry.ids + 1] = item.id -- duplicates in the account: one entry, every id
    end
  end
  return { keys = keys, by_key = by_key }
end

-- The entries of the account that FILE does not list.
local function stale_entries(wanted, state)
  local want = {}
  for _, e in ipairs(wanted) do want[e.key] = true end
  local stale = {}
  for _, key in ipairs(state.keys) do
    if not want[key] then stale[#stale + 1] = state.by_key[key] end
  end
  return stale
end

local function make_plan(wanted, state)
  local plan = { add = {}, keep = {}, remove = stale_entries(wanted, state) }
  for _, e in ipairs(wanted) do
    local list = state.by_key[e.key] and plan.keep or plan.add
    list[#list + 1] = e
  end
  return plan
end

---------------------------------------------------------------------------
-- Applying
---------------------------------------------------------------------------

-- Whether an error says that the entry already exists (the API answers 422; a 409 would mean
-- the same).
local function is_duplicate(err)
  if not (telnyx.is_error(err, "UnprocessableEntityError") or telnyx.is_error(err, "ConflictError")) then
    return false
  end
  local texts = { err.message or "" }
  for _, e in ipairs(type(err.errors) == "table" and err.errors or {}) do
    if type(e) == "table" then
      for _, field in ipairs{ "title", "detail", "code" } do
        if type(e[field]) == "string" then texts[#texts + 1] = e[field] end
      end
    end
  end
  local text = table.concat(texts, " "):lower()
  return text:find("already exist", 1, true) ~= nil or text:find("duplicate", 1, true) ~= nil
      or text:find("already been taken", 1, true) ~= nil
end

local function failure(action, entry, err)
  return { action = action, entry = entry, error = cli.error_text(err),
           status = type(err) == "table" and math.type(err.status) == "integer" and err.status or nil }
end

-- Runs fn(entry) for every entry with telnyx.map; run.done[entry] is set as each one
-- finishes, so an interruption can tell what was done. Failures go to run.failures.
local function for_each(run, action, entries, fn)
  local _, failures = telnyx.map(entries, function(entry)
    fn(entry)
    run.done[entry] = true
  end, { concurrency = run.concurrency, progress = true })
  for _, f in ipairs(failures) do
    run.failures[#run.failures + 1] = failure(action, f.item.value, f.error)
  end
  return #failures == 0
end

local function add_entry(client, entry, description)
  local resource = client[entry.kind.resource]
  local ok, err = pcall(resource.create, resource,
                        { [entry.kind.field] = entry.value, description = description })
  if not ok and not is_duplicate(err) then error(err, 0) end
end

-- Deletes every record of the entry; one already gone (404) counts as deleted.
local function remove_entry(client, entry)
  local resource = client[entry.kind.resource]
  for _, id in ipairs(entry.ids) do
    local ok, err = pcall(resource.delete, resource, id)
    if not ok and not telnyx.is_error(err, "NotFoundError") then error(err, 0) end
  end
end

-- Make before break. Returns true when the allowlist now matches FILE.
local function apply(client, run, wanted, plan, description)
  if #plan.add == 0 and #plan.remove == 0 then return true end -- it already does
  run.phase = "add"
  if not for_each(run, "add", plan.add, function(e) add_entry(client, e, description) end) then
    return false
  end
  -- POSTs can be retried and this API has no idempotency keys, and the account may have
  -- changed since the first read: what to remove is decided on a fresh read.
  run.phase = "verify"
  local expected = {} -- what the account should hold now, so its pages are read in one round
  for _, list in ipairs({ wanted, plan.remove }) do
    for _, e in ipairs(list) do expected[e.kind] = (expected[e.kind] or 0) + 1 end
  end
  local ok, state = pcall(read_state, client, run.concurrency, expected)
  if not ok then
    if cli.is_interrupt(state) then error(state, 0) end
    run.failures[#run.failures + 1] = failure("read", nil, state)
    return false
  end
  for _, e in ipairs(wanted) do
    if not state.by_key[e.key] then
      run.failures[#run.failures + 1] = failure("verify", e.value,
        "the API does not list this entry after it was added")
    end
  end
  if #run.failures > 0 then return false end
  plan.remove = stale_entries(wanted, state)
  run.phase = "remove"
  return for_each(run, "remove", plan.remove, function(e) remove_entry(client, e) end)
end

---------------------------------------------------------------------------
-- Output
---------------------------------------------------------------------------

local function values(entries)
  local out = telnyx.json.array()
  for i, e in ipairs(entries) do out[i] = e.value end
  return out
end

-- The entries of `list` that run.done has, and those it has not (values).
local function split_done(run, list)
  local done, not_done = {}, {}
  for _, e in ipairs(list) do
    local into = run.done[e] and done or not_done
    into[#into + 1] = e.value
  end
  return done, not_done
end

local function print_json(run, plan, applied)
  local list = {}
  for i, f in ipairs(run.failures) do
    list[i] = cli.ordered{ { "action", f.action }, { "entry", f.entry or telnyx.null },
                           { "status", f.status or telnyx.null }, { "error", f.error } }
  end
  local added, removed = split_done(run, plan.add), split_done(run, plan.remove)
  cli.out(cli.json(cli.ordered{
    { "add", values(plan.add) }, { "remove", values(plan.remove) }, { "keep", values(plan.keep) },
    { "applied", applied }, { "failures", cli.array(list) },
    { "added", cli.array(added) }, { "removed", cli.array(removed) },
  }), "\n")
end

-- The closing line of a run that did not finish: exactly what was added and removed, counted
-- from what each task confirmed (run.done), never from the phase it stopped in.
local function summary_not_applied(run, plan)
  local added, removed = split_done(run, plan.add), split_done(run, plan.remove)
  local text = ("Not applied: added %d of %d"):format(#added, #plan.add)
  if run.phase == "remove" then
    text = text .. (", removed %d of %d stale entries"):format(#removed, #plan.remove)
  else
    text = text .. "; nothing was removed (make before break)"
  end
  return text .. "; run again to finish.\n"
end

local function print_plan(plan)
  local sections = { { "add", plan.add }, { "remove", plan.remove }, { "keep", plan.keep } }
  local width = 0
  for _, section in ipairs(sections) do
    for _, e in ipairs(section[2]) do width = math.max(width, #e.value) end
  end
  local lines = {
    ("Plan: %d to add, %d to remove, %d to keep\n"):format(#plan.add, #plan.remove, #plan.keep) }
  local line = "  %-6s  %-" .. width .. "s  (%s)\n"
  for _, section in ipairs(sections) do
    for _, e in ipairs(section[2]) do
      lines[#lines + 1] = line:format(section[1], e.value, e.kind.name)
    end
  end
  cli.out(table.concat(lines))
end

local function print_failures(failures)
  for _, f in ipairs(failures) do
    cli.warn("%s%s failed: %s", f.action, f.entry and (" " .. f.entry) or "", f.error)
  end
end

-- After Ctrl-C: what was done and what was not; every entry not done becomes a failure.
-- telnyx.map's InterruptedError (err) tells the entries whose request was in flight (the API
-- may have applied it: outcome unknown) from those never started.
local function report_interrupt(run, plan, err)
  local phase = run.phase
  if phase == "read" or phase == "verify" then
    cli.warn(phase == "read" and "interrupted while reading the allowlist; nothing was changed"
             or "interrupted after every addition was done; nothing was removed")
    run.failures[#run.failures + 1] = failure("read", nil, "interrupted")
  else
    local list = phase == "add" and plan.add or plan.remove
    local verb = phase == "add" and "added" or "removed"
    local done, not_done = split_done(run, list)
    cli.warn("interrupted: %s %d of %d entries%s", verb, #done, #list,
             phase == "add" and "; nothing was removed" or " (every addition was done)")
    local in_flight = {}
    for _, i in ipairs(telnyx.is_error(err, "InterruptedError") and err.in_flight or {}) do
      if list[i] and not run.done[list[i]] then in_flight[list[i].value] = true end
    end
    local unknown, not_started = {}, {}
    for _, v in ipairs(not_done) do
      local into = in_flight[v] and unknown or not_started
      into[#into + 1] = v
    end
    if #unknown > 0 then
      cli.warn("outcome unknown (the request was in flight; the API may have applied it): %s",
               table.concat(unknown, " "))
    end
    if #not_started > 0 then cli.warn("not %s: %s", verb, table.concat(not_started, " ")) end
    for _, v in ipairs(unknown) do
      run.failures[#run.failures + 1] = failure(phase, v, "interrupted: outcome unknown")
    end
    for _, v in ipairs(not_started) do run.failures[#run.failures + 1] = failure(phase, v, "interrupted") end
  end
  if phase ~= "read" then cli.warn("run the same command again to finish") end
end

---------------------------------------------------------------------------
-- Main
---------------------------------------------------------------------------

local function parse_args(argv)
  local parser = cli.parser(NAME,
    "Keep the account's IP allowlist (access_ip_address, access_ip_ranges) equal to FILE.",
    "FILE: one IPv4/IPv6 address or CIDR block a line, '#' comments; '-' reads stdin.\n" ..
    "Without --apply only the plan is printed. Exit status: 0 done, 1 a request failed\n" ..
    "or interrupted (stale entries kept), 2 bad usage or a bad line in FILE (nothing sent).\n" ..
    "Environment: TELNYX_API_KEY (required), TELNYX_BASE_URL.")
  parser:argument("file", "File of entries, or '-' for stdin."):argname("FILE")
  parser:flag("--apply", "Make the changes (default: print the plan only).")
  parser:option("--concurrency", "Requests at once while applying (1-256).", "8")
    :argname("N"):convert(cli.concurrency)
  parser:flag("--json", "Print one JSON object {add, remove, keep, applied, failures, added, removed}\n"
                      .. "on stdout: the plan, then what the run confirmed done.")
  parser:option("--description", "Description of the entries added."):argname("TEXT")
  parser:flag("--allow-empty", "With --apply, accept a FILE without entries (removes every entry).")
  return parser:parse(argv)
end

local function main(argv)
  local args = parse_args(argv)
  local file = args.file == "-" and "stdin" or args.file
  local wanted = read_entries(args.file)
  if not wanted then return cli.EXIT_USAGE end
  if #wanted == 0 and args.apply and not args.allow_empty then
    cli.usage_error("%s lists no entries: applying it would remove every entry of the " ..
                    "allowlist (pass --allow-empty if that is what you want)", file)
  end
  local client = cli.client()
  local run = { concurrency = args.concurrency, done = {}, failures = {}, phase = "read" }
  local plan = { add = {}, remove = {}, keep = {} }
  local applied = false
  local ok, err = pcall(function()
    plan = make_plan(wanted, read_state(client, run.concurrency))
    if not args.json then print_plan(plan) end
    if args.apply then applied = apply(client, run, wanted, plan, args.description) end
  end)
  if ok then
    print_failures(run.failures)
  elseif cli.is_interrupt(err) then
    report_interrupt(run, plan, err)
  elseif run.phase == "read" then
    run.failures[#run.failures + 1] = failure("read", nil, err)
    print_failures(run.failures)
  else
    error(err, 0) -- not a request failure: a bug, reported by cli.main
  end
  if args.json then
    print_json(run, plan, applied)
  elseif ok and not args.apply then
    cli.out("Plan only: nothing was changed. Run with --apply to make these changes.\n")
  elseif applied and #plan.add + #plan.remove == 0 then
    cli.out(("Nothing to change: the allowlist already matches %s.\n"):format(file))
  elseif applied then
    cli.out(("Applied: %d added, %d removed; the allowlist matches %s.\n")
      :format(#plan.add, #plan.remove, file))
  elseif run.phase ~= "read" then
    cli.out(summary_not_applied(run, plan))
  end
  return #run.failures == 0 and cli.EXIT_OK or cli.EXIT_FAILED
end

cli.main(NAME, main)
