-- Shared body of the GET scenarios: rotate prebuilt requests, report at the end.
-- A scenario script defines paths(args) and then runs this file with dofile().
local common = require("common")
local requests, i

function setup(thread)
   common.setup(thread)
end

function init(args)
   local tokens = common.read_tokens(args[1])
   local rest = {}
   for k = 2, #args do
      rest[#rest + 1] = args[k]
   end
   requests = common.get_requests(tokens, paths(rest), thread_id * 97)
   i = 0
end

function request()
   i = i + 1
   return requests[(i % #requests) + 1]
end

function done(summary, latency, _requests)
   common.report(summary, latency)
end
