-- Trims from the front of each queue what its consumer group has finished with: entries are acknowledged
-- without XDEL (see acknowledge), and this one call per interval removes them together. Nothing pending and
-- nothing not yet delivered is trimmed (unfinished_bound).
-- KEYS: the task streams; ARGV[1] consumer group
-- Returns how many entries were trimmed.
local trimmed = 0
for _, stream in ipairs(KEYS) do
  local bound = unfinished_bound(stream, ARGV[1])
  if bound then trimmed = trimmed + redis.call('XTRIM', stream, 'MINID', bound) end
end
return trimmed
