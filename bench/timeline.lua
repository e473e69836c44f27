-- (f) The staff day plan page of the whole site (200 rooms, HTML), signed in by session.
-- Arguments: SESSIONS_FILE PLACE (site-ID) DAY (YYYY-MM-DD)
function paths(args)
   return { "/plan/?place=" .. args[1] .. "&date=" .. args[2] }
end
dofile("get.lua")
