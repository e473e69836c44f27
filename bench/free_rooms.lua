-- (b) Free-room search: rooms free for one hour of the benchmark day, over all rooms.
-- Arguments: TOKENS_FILE FREE_FROM FREE_TO [FREE_FROM FREE_TO ...] (URL-encoded ISO 8601)
-- Several hours are given so the search does not always hit the same slot.
function paths(args)
   local list = {}
   for k = 1, #args - 1, 2 do
      list[#list + 1] = "/api/v1/rooms?free_from=" .. args[k] .. "&free_to=" .. args[k + 1]
   end
   return list
end
dofile("get.lua")
