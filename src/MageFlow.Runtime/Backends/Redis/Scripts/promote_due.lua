-- Moves delayed retries whose due time has come back to their task streams, earliest first.
-- KEYS[1] delayed sorted set
-- ARGV[1] now unix ms, ARGV[2] max count, ARGV[3] key prefix
-- Returns how many moved.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  local task, _, fields = cmsgpack.unpack(member)
  redis.call('XADD', ARGV[3] .. ':q:' .. task, '*', unpack(fields))
  redis.call('ZREM', KEYS[1], member)
end
return #due
