-- Stores a new signature hash with its active TTL. Ids are 96 random bits, so the key is new: no DEL first.
-- KEYS[1] signature hash
-- ARGV[1] ttl in ms; ARGV[2..] field, value pairs
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
