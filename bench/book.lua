-- (d) Booking under contention: every connection tries the same few slots.
-- 201 (got it) and 409 (taken, with the conflicting booking) are both right answers;
-- anything else counts as an error. Each request has its own Idempotency-Key.
-- Arguments: TOKENS_FILE NONCE ROOMS(comma-separated ids) START END [START END ...]
local common = require("common")
local tokens, rooms, slots, nonce, n

function setup(thread)
   common.setup(thread)
end

function init(args)
   tokens = common.read_tokens(args[1])
   nonce = args[2]
   rooms = {}
   for id in string.gmatch(args[3], "%d+") do
      rooms[#rooms + 1] = id
   end
   slots = {}
   for k = 4, #args - 1, 2 do
      slots[#slots + 1] = { args[k], args[k + 1] }
   end
   math.randomseed(thread_id * 7919)
   n = 0
   created, conflict, other = 0, 0, 0
end

function request()
   n = n + 1
   local slot = slots[math.random(#slots)]
   local room = rooms[math.random(#rooms)]
   local body = string.format(
      '{"room": %s, "title": "Benchmark", "start": "%s", "end": "%s"}', room, slot[1], slot[2]
   )
   local headers = {
      ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)],
      ["Content-Type"] = "application/json",
      ["Accept-Language"] = "en",
      ["Idempotency-Key"] = string.format("%s-%d-%d", nonce, thread_id, n),
   }
   return wrk.format("POST", "/api/v1/bookings", headers, body)
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   elseif status == 409 then
      conflict = conflict + 1
   else
      other = other + 1
   end
end

function done(summary, latency, _requests)
   common.report(summary, latency, function(threads)
      local c, k, o = 0, 0, 0
      for _, t in ipairs(threads) do
         c = c + t:get("created")
         k = k + t:get("conflict")
         o = o + t:get("other")
      end
      return { created = c, conflict = k, other = o }, o
   end)
end
