-- Sets a status by hand, recording the previous one as last status. Returns 0 when the signature is gone.
-- KEYS[1] signature hash; ARGV[1] new status int
local status = redis.call('HGET', KEYS[1], 's')
if not status then return 0 end
redis.call('HSET', KEYS[1], 's', ARGV[1], 'l', status)
return 1
