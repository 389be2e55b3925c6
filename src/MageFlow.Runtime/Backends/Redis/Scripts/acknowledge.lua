-- Acknowledges and removes an entry without any state change (malformed entries).
-- KEYS[1] stream; ARGV[1] consumer group, ARGV[2] entry id
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XDEL', KEYS[1], ARGV[2])
