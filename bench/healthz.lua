-- (e) The ceiling: the trivial liveness view, through the same stack (no database).
-- Arguments: TOKENS_FILE (ignored: "-")
function paths(args)
   return { "/healthz" }
end
dofile("get.lua")
