-- Start transition (rules 10, 12, 13). Status ints: 0 Pending, 1 Active (SignatureStatus).
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id
-- Returns {0} missing, {1, hash} started, {2, hash} not runnable; the entry is acknowledged unless started.
local status = redis.call('HGET', KEYS[1], 's')
if not status then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return {0}
end
if status ~= '0' and status ~= '1' then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return {2, redis.call('HGETALL', KEYS[1])}
end
if status ~= '1' then redis.call('HSET', KEYS[1], 's', '1', 'l', status) end
redis.call('HINCRBY', KEYS[1], 'a', 1)
return {1, redis.call('HGETALL', KEYS[1])}
