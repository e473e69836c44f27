-- Door displays polling /d/<token>/status.json, one display after the other.
--
-- Arguments (after `--`): TARGETS_FILE [MODE] [PACE_MS]
--   TARGETS_FILE  lines "PATH ETAG" (bench/displays.py writes it)
--   MODE          "etag" sends If-None-Match (a display that has the status), "none" does not
--   PACE_MS       pause of each connection between its requests (0: as fast as possible)
-- Prints one BENCH_RESULT line with the counts of 200, 304 and other answers.

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   threads[#threads + 1] = thread
end

function init(args)
   local mode = args[2] or "etag"
   pace = tonumber(args[3] or "0")
   requests = {}
   for line in io.lines(args[1]) do
      local path, etag = line:match("^(%S+)%s+(%S+)$")
      if path then
         local headers = { ["X-RFR-Kiosk"] = "bench" }
         if mode == "etag" then
            headers["If-None-Match"] = etag
         end
         requests[#requests + 1] = wrk.format("GET", path, headers)
      end
   end
   -- Threads start at different displays so they do not poll in lockstep.
   i = (id * 7919) % #requests
   ok200, ok304, other = 0, 0, 0
end

function request()
   i = i % #requests + 1
   return requests[i]
end

function delay()
   return pace
end

function response(status, headers, body)
   if status == 304 then
      ok304 = ok304 + 1
   elseif status == 200 then
      ok200 = ok200 + 1
   else
      other = other + 1
   end
end

function done(summary, latency, _requests)
   local c200, c304, cother = 0, 0, 0
   for _, t in ipairs(threads) do
      c200 = c200 + t:get("ok200")
      c304 = c304 + t:get("ok304")
      cother = cother + t:get("other")
   end
   local e = summary.errors
   local seconds = summary.duration / 1e6
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "seconds": %.3f, "rps": %.3f, "s200": %d, "s304": %d, ' ..
      '"other": %d, "socket_errors": %d, "timeouts": %d, "p50": %.3f, "p90": %.3f, "p99": %.3f, ' ..
      '"max": %.3f}\n',
      summary.requests, seconds, summary.requests / seconds, c200, c304, cother,
      e.connect + e.read + e.write + e.timeout, e.timeout,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000))
end
