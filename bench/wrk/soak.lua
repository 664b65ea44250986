-- wrk script for the soak (bench/soak.py). SOAK_BODIES has one request a line,
-- "<bearer token or -><TAB><JSON body>"; each thread sends them in turn from its own offset.
-- Every response is checked: a status other than 200 or a body with "errors" counts as bad.
--
-- Open loop: with SOAK_RATE (requests per second for the whole run, shared by SOAK_THREADS
-- threads), each thread lays a fixed schedule of send times, interleaved with the other
-- threads', and `delay()` holds each request back until its time. Send times never wait for
-- responses as long as a connection is free; when none is (the server stalls), requests go
-- out late and then catch up, and each send more than SOAK_LATE_MS behind its time counts as
-- late, so a stall the latency figures would hide (coordinated omission) still shows.
-- Without SOAK_RATE the script runs closed-loop, as fast as the connections allow.
--
-- done() prints one line `JSON {...}` with the figures, and `SAMPLE ...` with the first bad
-- response.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock, soak_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("soak_timespec")

local function now_us()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end

local entries = {}
for line in io.lines(os.getenv("SOAK_BODIES")) do
  local token, body = line:match("^([^\t]*)\t(.*)$")
  if body then table.insert(entries, { token = token, body = body }) end
end

local rate = tonumber(os.getenv("SOAK_RATE") or "") or 0
local thread_count = tonumber(os.getenv("SOAK_THREADS") or "1")
local late_us = (tonumber(os.getenv("SOAK_LATE_MS") or "") or 10) * 1000
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
  late = 0
  max_late_us = 0
  requests = {}
  for _, entry in ipairs(entries) do
    local headers = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }
    if entry.token ~= "-" then headers["Authorization"] = "Bearer " .. entry.token end
    table.insert(requests, wrk.format("POST", "/graphql", headers, entry.body))
  end
  next_request = (index * math.floor(#requests / thread_count + 0.5)) % #requests
  -- The schedule: one send every `interval` µs in this thread, the threads shifted by a
  -- fraction of it so that their sends interleave.
  interval = rate > 0 and thread_count * 1e6 / rate or 0
  next_slot = nil
  slots = {}
  slot_head = 1
end

if rate > 0 then
  -- Called before every request a connection is about to send: claims the next free time
  -- on the thread's schedule and waits until then (wrk's delay is in milliseconds).
  function delay()
    local now = now_us()
    if next_slot == nil then next_slot = now + index * interval / thread_count end
    local slot = next_slot
    next_slot = next_slot + interval
    slots[#slots + 1] = slot
    local wait = slot - now
    if wait <= 0 then return 0 end
    return math.floor(wait / 1000)
  end
end

function request()
  local slot = slots[slot_head]
  if slot then
    -- Sends leave in the order of their times: the oldest unclaimed time is this one's.
    local behind = now_us() - slot
    slots[slot_head] = nil
    slot_head = slot_head + 1
    if behind > late_us then late = late + 1 end
    if behind > max_late_us then max_late_us = behind end
  end
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
  local total_bad, total_late, worst = 0, 0, 0
  local first = nil
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
    total_late = total_late + (thread:get("late") or 0)
    worst = math.max(worst, thread:get("max_late_us") or 0)
    first = first or thread:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"bad":%d,"late":%d,' ..
    '"max_late_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    total_bad, total_late, worst, latency:percentile(50), latency:percentile(99), latency.max))
  if first then io.write("SAMPLE " .. first .. "\n") end
end
