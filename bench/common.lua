-- Shared by the scenario scripts: bearer tokens, request rotation, and the result line.
--
-- Each scenario script sets `paths(args)` (a list of paths to request in turn) and then
-- `dofile`s nothing: run.py starts wrk in this folder so `require "common"` finds us.
-- Script arguments (after `--`): TOKENS_FILE then the scenario's own arguments.

local M = {}

local threads = {}
local counter = 0

function M.read_tokens(file)
   local tokens = {}
   if file == nil or file == "-" then
      return tokens
   end
   for line in io.lines(file) do
      if #line > 0 then
         tokens[#tokens + 1] = line
      end
   end
   return tokens
end

-- Called from setup(): number the thread so each one rotates tokens from a different start.
function M.setup(thread)
   counter = counter + 1
   thread:set("thread_id", counter)
   threads[#threads + 1] = thread
end

-- Prebuilt GET requests, one per (path, token) pair in turn; wrk sends them round-robin.
function M.get_requests(tokens, paths, offset)
   local requests = {}
   local n = math.max(#tokens, 1)
   for i = 0, n * #paths - 1 do
      local headers = {}
      if #tokens > 0 then
         local token = tokens[((i + offset) % #tokens) + 1]
         if token:find("=", 1, true) then
            headers["Cookie"] = token -- a signed-in session, for the staff pages
         else
            headers["Authorization"] = "Bearer " .. token
         end
      end
      headers["Accept-Language"] = "en"
      -- As every browser and HTTP library sends it: the bytes on the wire are the compressed ones.
      headers["Accept-Encoding"] = "gzip"
      requests[#requests + 1] = wrk.format("GET", paths[(i % #paths) + 1], headers)
   end
   return requests
end

local function json_number(x)
   return string.format("%.3f", x)
end

-- One line the runner parses: counts, rates and latency percentiles in milliseconds.
-- `extra(threads)` may return a table of more counters and how many answers were errors.
function M.report(summary, latency, extra)
   local e = summary.errors
   local socket_errors = e.connect + e.read + e.write + e.timeout
   local fields = {}
   local answer_errors = e.status
   if extra then
      local more, wrong = extra(threads)
      answer_errors = wrong
      for k, v in pairs(more) do
         fields[#fields + 1] = string.format('"%s": %d', k, v)
      end
   end
   local seconds = summary.duration / 1e6
   fields[#fields + 1] = string.format('"requests": %d', summary.requests)
   fields[#fields + 1] = string.format('"bytes": %d', summary.bytes)
   fields[#fields + 1] = '"seconds": ' .. json_number(seconds)
   fields[#fields + 1] = '"rps": ' .. json_number(summary.requests / seconds)
   fields[#fields + 1] = string.format('"socket_errors": %d', socket_errors)
   fields[#fields + 1] = string.format('"timeouts": %d', e.timeout)
   fields[#fields + 1] = string.format('"answer_errors": %d', answer_errors)
   fields[#fields + 1] = string.format('"errors": %d', socket_errors + answer_errors)
   for _, p in ipairs({ 50, 95, 99 }) do
      fields[#fields + 1] = string.format('"p%d": %s', p, json_number(latency:percentile(p) / 1000))
   end
   fields[#fields + 1] = '"mean": ' .. json_number(latency.mean / 1000)
   fields[#fields + 1] = '"max": ' .. json_number(latency.max / 1000)
   io.write("BENCH_RESULT {" .. table.concat(fields, ", ") .. "}\n")
end

return M
