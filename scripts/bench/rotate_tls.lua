-- The rotate_tls section: the rotate workload at the top concurrency over TLS and HTTP/2
-- through a TLS front (nghttpx) before the mock, beside the same over plain HTTP/1.1 to the
-- mock, and beside libcurl alone through the same front (whose hop is not ours); judged on
-- telnyx-lua through the front against libcurl alone through it. The method is described in
-- scripts/bench/README.md ("Rotate over TLS and HTTP/2").

local util = require "bench.util"
local cfg = require "bench.config"
local mock = require "bench.mock"
local measure = require "bench.measure"
local results = require "bench.results"
local rotate = require "bench.rotate"
local socket = util.require_system "socket"

local format, q = string.format, util.q

local M = {}

-- A TLS + HTTP/2 front (nghttpx) before the mock m: a CA and a certificate for 127.0.0.1 made
-- with openssl; returns {url=, ca=, pid=} (stopped at the end with the mocks).
local function start_front(m)
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  local d = cfg.tmp("tls")
  local ext = cfg.tmp("tls.ext")
  util.write_file(ext, "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")
  local cmd = format("mkdir -p %s && cd %s && openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 "
                     .. "-subj /CN=bench-ca && openssl req %s -keyout srv.key -out srv.csr -subj /CN=bench "
                     .. "&& openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
                     .. "-out srv.pem -extfile %s", q(d), q(d), ec, ec, q(ext))
  assert(os.execute(cmd .. " >/dev/null 2>&1"), "openssl could not make the bench's certificates")
  for _ = 1, 5 do
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    local f = { pid = tonumber(util.capture(format("nghttpx --conf=/dev/null --frontend=127.0.0.1,%s "
      .. "--backend=127.0.0.1,%s --workers=1 --no-ocsp --errorlog-file=%s/nghttpx.log %s/srv.key %s/srv.pem "
      .. "</dev/null >/dev/null 2>&1 & echo $!", port, m.root:match(":(%d+)$"), d, d, d))),
      url = format("https://127.0.0.1:%s/v2", port), ca = d .. "/ca.pem" }
    mock.track(f)
    for _ = 1, 250 do
      local c = socket.tcp()
      c:settimeout(0.1)
      if c:connect("127.0.0.1", tonumber(port)) then
        c:close()
        return f
      end
      c:close()
      if not mock.alive(f.pid) then break end
      socket.sleep(0.02)
    end
    mock.stop(f)
  end
  error("nghttpx did not start: " .. (util.read_file(d .. "/nghttpx.log") or ""))
end

function M.run()
  local N, HOST = cfg.N, cfg.HOST
  util.log("rotate over TLS and HTTP/2 (nghttpx before the mock at --latency %d)", N.latency)
  local m = mock.start(N.latency)
  local front = start_front(m)
  local file = rotate.allowlist_file()
  local c = N.concurrency[#N.concurrency]
  local tls_env = cfg.api_env(m)
  tls_env.TELNYX_BASE_URL, tls_env.TELNYX_CA_BUNDLE = front.url, front.ca
  local function run_rotate(env)
    mock.reset(m)
    local r = measure.run({ HOST, cfg.ROTATE, "--apply", "--concurrency", tostring(c), file }, env, nil, m)
    assert(mock.total(m) == N.rotate, "the mock does not hold every added address")
    return r
  end
  local runs = measure.interleaved({
    { label = "rotate https h2 c=" .. c, run = function() return run_rotate(tls_env) end },
    { label = "rotate http/1.1 c=" .. c, run = function() return run_rotate(cfg.api_env(m)) end },
    { label = "curl_floor rotate https h2 c=" .. c, run = function()
      mock.reset(m)
      local r = measure.run({ cfg.CURL_FLOOR, "rotate", front.url, tostring(N.rotate), tostring(c) }, tls_env,
                            format("created=%d items=%d", N.rotate, N.rotate), m)
      assert(mock.total(m) == N.rotate, "the mock does not hold every added address")
      return r
    end },
  }, cfg.runs, 1)
  local what = format("%d additions, latency %d ms, concurrency %d", N.rotate, N.latency, c)
  results.add_row("rotate_tls" .. c, "rotate over TLS + HTTP/2 through nghttpx: " .. what, runs[1])
  results.add_row("rotate_plain" .. c, "rotate over plain HTTP/1.1 to the mock: " .. what, runs[2])
  results.add_row("rotate_tls_floor" .. c, "floor: rotate's requests by libcurl alone through the same nghttpx "
                                           .. "(curl_floor rotate, HTTP/2)", runs[3])
  local ours, floor = results.med("rotate_tls" .. c, "wall"), results.med("rotate_tls_floor" .. c, "wall")
  results.target(format("rotate over TLS + HTTP/2 at concurrency %d vs libcurl alone through the same front", c),
                 format("%+.1f%% (%.0f vs %.0f ms)", (ours / floor - 1) * 100, ours * 1000, floor * 1000), "≤ +5%",
                 ours <= floor * 1.05)
  mock.stop(front)
  mock.stop(m)
end

return M
