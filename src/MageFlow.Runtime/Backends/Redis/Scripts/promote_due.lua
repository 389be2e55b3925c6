-- Moves delayed retries whose due time has come back to their task streams, earliest first. A member that
-- is not a parked run (written by something else) is removed, not retried forever.
-- KEYS[1] delayed sorted set
-- ARGV[1] now unix ms, ARGV[2] max count, ARGV[3] the hash tag of the set's partition (its runs go to that partition's queues)
-- Returns {moved, dropped}.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local moved, dropped = 0, 0
for _, member in ipairs(due) do
  local ok, task, _, fields = pcall(cmsgpack.unpack, member)
  if ok and type(task) == 'string' and type(fields) == 'table' and #fields > 0 and #fields % 2 == 0 then
    redis.call('XADD', queue_key(ARGV[3], task), '*', unpack(fields))
    moved = moved + 1
  else
    dropped = dropped + 1
  end
  redis.call('ZREM', KEYS[1], member)
end
return {moved, dropped}
