-- Sets a status by hand, recording the previous one as last status. Returns 0 when the signature is gone.
-- KEYS[1] signature hash; ARGV[1] new status int
if not is_hash(KEYS[1]) then return 0 end
local status = redis.call('HGET', KEYS[1], F_STATUS)
if not status then return 0 end
redis.call('HSET', KEYS[1], F_STATUS, ARGV[1], F_LAST_STATUS, status)
return 1
