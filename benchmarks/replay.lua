-- wrk script of benchmarks/gateway.py: replays the requests of a plan file, one "METHOD PATH"
-- per line (presigned S3 URLs' paths, or Swift paths sent with a token), each thread taking
-- every N-th line from its own offset so no two threads send the same request at once.
-- Arguments (after wrk's --): plan file, body size in bytes for PUTs, thread count, and an
-- optional X-Auth-Token. done() prints one JSON line: the figures gateway.py reads.

local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

function init(args)
   plan = {}
   for line in io.lines(args[1]) do
      local method, path = line:match("^(%u+) (.+)$")
      plan[#plan + 1] = { method, path }
   end
   local size = tonumber(args[2])
   body = size > 0 and string.rep("x", size) or nil
   stride = tonumber(args[3])
   headers = {}
   if args[4] and args[4] ~= "" then
      headers["X-Auth-Token"] = args[4]
   end
   position = id
end

function request()
   local step = plan[(position % #plan) + 1]
   position = position + stride
   return wrk.format(step[1], step[2], headers, step[1] == "PUT" and body or nil)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": %d, "status_errors": %d, ' ..
      '"p50_us": %d, "p99_us": %d, "max_us": %d}\n',
      summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout,
      e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
