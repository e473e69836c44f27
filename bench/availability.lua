-- (a) The day plan: every room with its busy intervals on the benchmark day.
-- Arguments: TOKENS_FILE DAY (YYYY-MM-DD)
function paths(args)
   return { "/api/v1/availability?date=" .. args[1] }
end
dofile("get.lua")
