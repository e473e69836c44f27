-- (c) The room list: every room with its place and equipment, smallest first.
-- Arguments: TOKENS_FILE
function paths(args)
   return { "/api/v1/rooms" }
end
dofile("get.lua")
