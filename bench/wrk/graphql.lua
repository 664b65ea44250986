-- wrk script for the benchmark: POSTs the JSON bodies of BENCH_BODIES (one per line),
-- cycling through them (each thread from its own offset), with BENCH_AUTH as a bearer
-- token when set. Every response is checked: a status other than 200 or a body with
-- "errors" counts as bad. done() prints one line `JSON {...}` with the figures.

local function lines(path)
  local list = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(list, line) end
  end
  return list
end

local bodies = lines(os.getenv("BENCH_BODIES"))
local auth = os.getenv("BENCH_AUTH")
local path = os.getenv("BENCH_PATH") or "/graphql"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  sample = nil
  local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
  if auth and auth ~= "" then headers["Authorization"] = "Bearer " .. auth end
  requests = {}
  for _, body in ipairs(bodies) do
    table.insert(requests, wrk.format("POST", path, headers, body))
  end
  next_request = (index * 7) % #requests
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
    if sample == nil then sample = status .. " " .. string.sub(body, 1, 300) end
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  local first = nil
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    first = first or thread:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"bad":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    total_bad, latency:percentile(50), latency:percentile(99)))
  if first then io.write("SAMPLE " .. first .. "\n") end
end
