-- (f) The staff day plan page of the biggest building (HTML), signed in by session.
-- Arguments: SESSIONS_FILE BUILDING DAY (YYYY-MM-DD)
function paths(args)
   return { "/plan/?building=" .. args[1] .. "&date=" .. args[2] }
end
dofile("get.lua")
