-- telnyx.json: decode through lua-cjson with the project's fixups (telnyx.null, [] kept,
-- exact integers), and the project's own encoder. No server needed.
local telnyx = require "telnyx"
local json = telnyx.json

-- Decodes text and encodes the result again.
local function round_trip(text) return json.encode(json.decode(text)) end

-- Raises unless f(...) fails with a message matching `pattern`; returns the message.
local function fails_with(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.are.equal("string", type(err))
  assert.matches(pattern, err)
  return err
end

describe("telnyx.json", function()
  describe("null", function()
    it("reads a null field of a decoded object as nil; a bare null is telnyx.null", function()
      local v = json.decode('{"a":null,"b":1}')
      assert.is_nil(v.a)
      assert.is_true(not v.a, "if rec.a then is false")
      assert.are.equal(1, v.b)
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      assert.are.same({ "b" }, keys) -- pairs does not show null fields
      assert.are.same({ "a" }, json.nulls(v))
      assert.are.equal(telnyx.null, json.decode("null"))
    end)

    it("keeps null items of an array in place (no holes)", function()
      local t = json.decode("[1,null,3,null]")
      assert.are.equal(4, #t)
      assert.are.equal(telnyx.null, t[2])
      assert.are.equal(telnyx.null, t[4])
      assert.are.equal(3, t[3])
      local nested = json.decode('{"tags":[null],"o":{"x":null}}')
      assert.are.equal(telnyx.null, nested.tags[1])
      assert.is_nil(nested.o.x)
    end)

    it("telnyx.null prints as null, is the value the encoder writes as null, and says what it is", function()
      assert.are.equal("null", tostring(telnyx.null))
      assert.are.equal(telnyx.null, json.null)
      assert.are.equal("telnyx.null", getmetatable(telnyx.null).__name)
      assert.matches("attempt to index a telnyx.null value", select(2, pcall(function()
        return telnyx.null.x
      end)))
    end)

    it("encodes telnyx.null as null, alone, in objects and in arrays", function()
      assert.are.equal("null", json.encode(telnyx.null))
      assert.are.equal('{"a":null}', json.encode({ a = telnyx.null }))
      assert.are.equal("[null,1,null]", json.encode({ telnyx.null, 1, telnyx.null }))
      assert.are.equal("[1,null,3,null]", round_trip("[1,null,3,null]"))
    end)

    it("a decoded record sent back keeps its null fields as null, at any depth", function()
      assert.are.equal('{"a":null}', round_trip('{"a":null}'))
      local rec = json.decode('{"id":"x","description":null,"meta":{"p":null,"q":null,"r":2}}')
      local back = json.decode(json.encode(rec))
      assert.are.same({ "description" }, json.nulls(back))
      local inner = json.nulls(back.meta)
      table.sort(inner)
      assert.are.same({ "p", "q" }, inner)
      assert.are.equal(2, back.meta.r)
      assert.are.equal("x", back.id)
    end)

    it("a null field given a value encodes the value; the last of duplicate keys wins", function()
      local rec = json.decode('{"a":null,"b":null}')
      rec.a = "set"
      assert.are.same({ "b" }, json.nulls(rec))
      assert.are.same({ a = "set" }, json.decode(json.encode(rec)))
      assert.are.same({ "b" }, json.nulls(json.decode(json.encode(rec))))
      assert.is_nil(json.decode('{"a":1,"a":null}').a)
      assert.are.equal(1, json.decode('{"a":null,"a":1}').a)
      assert.are.equal('{"a":1}', round_trip('{"a":null,"a":1}'))
    end)

    it("objects without nulls stay plain tables; records with the same nulls share one metatable", function()
      assert.is_nil(getmetatable(json.decode('{"a":1}')))
      local list = json.decode('[{"a":null,"b":null,"c":1},{"b":null,"a":null},{"a":null},{"z":2}]')
      assert.is_not_nil(getmetatable(list[1]))
      assert.are.equal(getmetatable(list[1]), getmetatable(list[2]))
      assert.are_not.equal(getmetatable(list[1]), getmetatable(list[3]))
      assert.is_nil(getmetatable(list[4]))
      assert.are.same({ "a" }, json.nulls(list[3]))
      list[1].a = 1 -- a value given to one record does not change the others' null fields
      assert.are.same({ "b" }, json.nulls(list[1]))
      table.sort(json.nulls(list[2]))
      assert.are.equal(2, #json.nulls(list[2]))
      assert.are.same({}, json.nulls({ a = 1 }))
      -- a null field named like a metamethod is only a field
      local odd = json.decode('{"__index":null,"__tostring":null,"x":1}')
      assert.are.equal(1, odd.x)
      assert.is_nil(odd.y)
      assert.matches("^table: ", tostring(odd))
    end)
  end)

  describe("empty arrays and objects", function()
    it("survive a decode/encode round trip at any depth", function()
      assert.are.equal("[]", round_trip("[]"))
      assert.are.equal("{}", round_trip("{}"))
      assert.are.equal("[[],{},[[]]]", round_trip("[ [ ], {}, [[]] ]"))
      local back = json.decode(round_trip('{"a":[],"b":{},"c":{"d":[]},"e":[{}]}'))
      assert.are.equal("[]", json.encode(back.a))
      assert.are.equal("{}", json.encode(back.b))
      assert.are.equal("[]", json.encode(back.c.d))
      assert.are.equal("[{}]", json.encode(back.e))
    end)

    it("json.array marks a table as an array, so an empty one encodes as []", function()
      assert.are.equal("{}", json.encode({}))
      assert.are.equal("[]", json.encode(json.array()))
      assert.are.equal("[]", json.encode(json.array({})))
      assert.are.equal("[1,2]", json.encode(json.array({ 1, 2 })))
      local t = {}
      assert.are.equal(t, json.array(t), "marks the table it is given")
    end)

    it("decoded arrays can grow and still encode as arrays", function()
      local t = json.decode("[]")
      t[#t + 1] = "x"
      assert.are.equal('["x"]', json.encode(t))
    end)
  end)

  describe("numbers", function()
    it("decodes integers beyond 2^53 exactly", function()
      local v = json.decode("9007199254740993")
      assert.are.equal("integer", math.type(v))
      assert.are.equal((1 << 53) + 1, v)
      assert.are.equal(1 << 62, json.decode("4611686018427387904"))
      assert.are.equal(math.maxinteger, json.decode("9223372036854775807"))
      assert.are.equal(math.mininteger, json.decode("-9223372036854775808"))
    end)

    it("decodes a 19-digit id inside an object exactly", function()
      local v = json.decode('{"data":{"id":1293384261075731499,"n":[12345678901234567]}}')
      assert.are.equal(1293384261075731499, v.data.id)
      assert.are.equal(12345678901234567, v.data.n[1])
    end)

    it("encodes integers exactly", function()
      assert.are.equal("9007199254740993", json.encode((1 << 53) + 1))
      assert.are.equal("4611686018427387904", json.encode(1 << 62))
      assert.are.equal("-9223372036854775808", json.encode(math.mininteger))
      assert.are.equal("[9007199254740993]", round_trip("[9007199254740993]"))
    end)

    it("decodes small integers as Lua integers", function()
      local v = json.decode('{"a":0,"b":-7,"c":20}')
      assert.are.equal("integer", math.type(v.a))
      assert.are.equal("integer", math.type(v.b))
      assert.are.equal(20, v.c)
    end)

    it("decodes and encodes floats without losing precision", function()
      assert.are.equal(1.5, json.decode("1.5"))
      assert.are.equal("float", math.type(json.decode("-0.25")))
      assert.are.equal(0.1, json.decode(json.encode(0.1)))
      assert.are.equal(1 / 3, json.decode(json.encode(1 / 3)))
      assert.are.equal(1e300, json.decode(json.encode(1e300)))
      assert.are.equal(6.02e23, json.decode("6.02e23"))
      assert.are.equal(-1.5e-7, json.decode("-1.5E-7"))
    end)

    it("gives the nearest float for an integer too large for 64 bits", function()
      local v = json.decode("123456789012345678901234567890")
      assert.are.equal("float", math.type(v))
      assert.are.equal(1.2345678901234568e29, v)
    end)

    it("decodes integers just outside 64 bits as floats on both sides, the bounds as integers", function()
      for _, case in ipairs {
        { "9223372036854775807", "integer", math.maxinteger },
        { "-9223372036854775808", "integer", math.mininteger },
        { "9223372036854775808", "float", 2.0 ^ 63 },
        { "-9223372036854775809", "float", -(2.0 ^ 63) },
        { "-9223372036854775808000", "float", -9.223372036854775808e21 },
        { "[-9223372036854775809]", "float", -(2.0 ^ 63) },
      } do
        local v = json.decode(case[1])
        if type(v) == "table" then v = v[1] end
        assert.are.equal(case[2], math.type(v), case[1])
        assert.are.equal(case[3], v, case[1])
      end
    end)

    it("refuses numbers beyond the float range (JSON has no infinity), naming the byte", function()
      fails_with("number out of range at byte 1", json.decode, "1e999")
      fails_with("number out of range at byte 1", json.decode, "-1e999")
      fails_with("number out of range at byte 7", json.decode, '{"a": 1e400}')
      fails_with("number out of range at byte 2", json.decode, "[" .. string.rep("9", 400) .. "]")
      assert.are.equal(0.0, json.decode("1e-999")) -- underflow is a number: zero
    end)
  end)

  describe("strings", function()
    it("decodes \\u escapes, surrogate pairs included, to UTF-8", function()
      assert.are.equal("é中😀", json.decode('"\\u00e9\\u4e2d\\ud83d\\ude00"'))
      assert.are.equal("a\0b", json.decode('"a\\u0000b"'))
      assert.are.equal('q"b\\s/\n\t', json.decode('"q\\"b\\\\s\\/\\n\\t"'))
    end)

    it("passes UTF-8 through both ways", function()
      local s = "Zürich – 東京 – 🚀"
      assert.are.equal('"' .. s .. '"', json.encode(s))
      assert.are.equal(s, json.decode(json.encode(s)))
    end)

    it("escapes quotes, backslashes and control characters when encoding", function()
      local text = json.encode('a"b\\c\n\r\t\1\0')
      assert.are.equal('"a\\"b\\\\c\\n\\r\\t\\u0001\\u0000"', text)
      assert.are.equal('a"b\\c\n\r\t\1\0', json.decode(text))
    end)

    it("rejects invalid UTF-8 when decoding, naming the byte", function()
      fails_with("invalid UTF%-8", json.decode, '"\255"')
      fails_with("invalid UTF%-8 in a string at byte 7", json.decode, '{"a":"\195\40"}')
      fails_with("invalid UTF%-8", json.decode, '["\237\160\128"]') -- an encoded surrogate
      fails_with("invalid UTF%-8", json.decode, '"\192\175"')        -- an overlong "/"
    end)

    it("rejects invalid UTF-8 when encoding, in values and keys", function()
      fails_with("not valid UTF%-8", json.encode, "\255")
      fails_with("not valid UTF%-8", json.encode, { ["k\200"] = 1 })
    end)

    it("rejects a lone surrogate escape", function()
      fails_with("invalid JSON", json.decode, '"\\ud800"')
    end)
  end)

  describe("structure", function()
    it("round-trips nested objects and arrays by value", function()
      local v = { name = "x", list = { 1, 2, { deep = true } }, obj = { a = false } }
      assert.are.same(v, json.decode(json.encode(v)))
    end)

    it("refuses 100,000 nested arrays with an error instead of crashing", function()
      local deep = string.rep("[", 100000) .. string.rep("]", 100000)
      fails_with("invalid JSON: .*nested", json.decode, deep)
    end)

    it("decodes nesting well inside the limit", function()
      local v = json.decode(string.rep("[", 500) .. "7" .. string.rep("]", 500))
      for _ = 1, 500 do v = v[1] end
      assert.are.equal(7, v)
    end)

    it("reports malformed text with a clear message", function()
      fails_with("^invalid JSON", json.decode, '{"a":')
      fails_with("^invalid JSON", json.decode, "")
      fails_with("^invalid JSON", json.decode, "[1,2,]")
      fails_with("^invalid JSON", json.decode, "{'a':1}")
    end)
  end)

  describe("keys and values that repeat from one object to the next", function()
    -- JSON text of a string, escaping only what must be
    local function quoted(v) return '"' .. v:gsub('[\\"]', "\\%0") .. '"' end

    it("decode to each object's own values, whether a value repeats, changes or shares a prefix", function()
      local values = { "added", "added", "adde", "added", "added2", 'add"ed', "added", "", "", "é", "é",
                       "\\", "added", "a\\", "a", "ab", "a" }
      for i = 1, 12 do values[#values + 1] = "id-" .. i end -- a run of misses
      for _ = 1, 3 do values[#values + 1] = "added" end -- then repeats again
      for _ = 1, 2 do values[#values + 1] = ("long "):rep(12) end -- too long to keep
      for _ = 1, 2 do values[#values + 1] = 'q"q' end -- escaped
      local parts, want = {}, {}
      for i, v in ipairs(values) do
        local other = values[#values - i + 1]
        parts[i] = '{"id":' .. quoted("id-" .. i) .. ',"status":' .. quoted(v) .. ',"note":' .. quoted(other) .. "}"
        want[i] = { id = "id-" .. i, status = v, note = other }
      end
      assert.are.same(want, json.decode("[" .. table.concat(parts, ",") .. "]"))
    end)

    it("tells keys apart that share a prefix or are spelled with escapes", function()
      local v = json.decode('[{"k":1},{"kk":2},{"k":3},{"k\\u0041":4},{"kA":5},{"k\\"":6},{"k":7}]')
      assert.are.same({ { k = 1 }, { kk = 2 }, { k = 3 }, { kA = 4 }, { kA = 5 }, { ['k"'] = 6 }, { k = 7 } }, v)
    end)

    it("keeps values of objects at different depths apart", function()
      -- depths 1 and 5 share a value slot in the decoder
      local text = '[{"a":"x","b":{"c":{"d":{"a":"y"}}}},{"a":"x","b":{"c":{"d":{"a":"x"}}}},{"a":"y"}]'
      assert.are.same({ { a = "x", b = { c = { d = { a = "y" } } } }, { a = "x", b = { c = { d = { a = "x" } } } },
                        { a = "y" } }, json.decode(text))
    end)

    it("gives the same values when the same text is decoded again", function()
      local text = '{"data":[{"s":"added","t":"2026-01-01"},{"s":"added","t":"2026-01-02"}],"meta":{"s":"added"}}'
      local first = json.decode(text)
      assert.are.same(first, json.decode(text))
      assert.are.same({ s = "added", t = "2026-01-02" }, first.data[2])
    end)
  end)

  describe("encode errors", function()
    it("a function", function()
      fails_with("cannot encode a function value", json.encode, { f = print })
    end)

    it("NaN and infinities", function()
      fails_with("cannot encode NaN", json.encode, 0 / 0)
      fails_with("cannot encode inf", json.encode, { x = math.huge })
      fails_with("cannot encode", json.encode, { -math.huge })
    end)

    it("a table mixing array items and other keys", function()
      fails_with("cannot encode a table with the number key %d as JSON %(an object needs string keys",
                 json.encode, { 1, 2, x = 3 })
    end)

    it("an array from JSON (or telnyx.json.array) given another key or a hole, not dropping it", function()
      local decoded = json.decode("[1,2]")
      decoded.note = "x"
      fails_with("JSON array %(telnyx.json.array%) that has the key 'note'", json.encode, decoded)
      fails_with("with a hole before item 3", json.encode, json.array{ 1, nil, 3 })
      assert.are.equal("[]", json.encode(json.array{}))
    end)

    it("a sparse array (a hole), rather than cutting it short", function()
      fails_with("array the keys 1%.%.n without holes", json.encode, { 1, nil, 3 })
    end)

    it("non-string keys, naming the key", function()
      fails_with("the boolean key true", json.encode, { [true] = 1 })
      fails_with("the number key 2%.5", json.encode, { x = 1, [2.5] = 3 })
    end)

    it("a cycle, without overflowing the stack", function()
      local t = {}
      t.self = t
      fails_with("nested deeper than %d+ %(a cycle%?%)", json.encode, t)
      local a = {}
      a[1] = a
      fails_with("a cycle", json.encode, a)
    end)

    it("a table nested 100,000 deep, without overflowing the stack", function()
      local root = {}
      local cur = root
      for _ = 1, 100000 do
        cur[1] = {}
        cur = cur[1]
      end
      fails_with("nested deeper than", json.encode, root)
    end)

    it("userdata and coroutines", function()
      fails_with("cannot encode a userdata value", json.encode, io.stdout)
      fails_with("cannot encode a thread value", json.encode, { coroutine.create(print) })
    end)
  end)
end)
