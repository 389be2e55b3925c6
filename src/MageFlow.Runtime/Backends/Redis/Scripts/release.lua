-- Hands a started run back at shutdown: the attempt is not counted and the start is no stall (the entry is
-- no longer marked as running), and the entry is marked long idle so the next reclaim by any worker takes it.
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] consumer, ARGV[3] entry id
if is_hash(KEYS[1]) and redis.call('HGET', KEYS[1], F_RUNNING_ENTRY) == ARGV[3] then
  redis.call('HDEL', KEYS[1], F_RUNNING_ENTRY, F_STALLS)
  local attempts = tonumber(redis.call('HGET', KEYS[1], F_ATTEMPTS)) or 1
  redis.call('HSET', KEYS[1], F_ATTEMPTS, tostring(math.max(0, attempts - 1)))
end
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[2], 0, ARGV[3], 'TIME', 1, 'JUSTID')
return 1
