-- For the health check: per queue, the id of the oldest entry its consumer group has not finished (pending, or not
-- yet delivered), '' when there is none. Without the group every entry waits, so it is the first entry.
-- KEYS: the task streams; ARGV[1] consumer group
-- Returns one id ('ms-seq', its ms part the time it was queued) or '' per stream, in order.
local oldest = {}
for i, stream in ipairs(KEYS) do
  local first = redis.call('XRANGE', stream, unfinished_bound(stream, ARGV[1]) or '-', '+', 'COUNT', 1)[1]
  oldest[i] = first and first[1] or ''
end
return oldest
