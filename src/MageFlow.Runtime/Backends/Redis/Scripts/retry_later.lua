-- Retry-later transition (rule 11): acknowledges the entry and parks a copy of its fields in the delayed set.
-- The copy is read from the stream itself, so an entry another worker already finished is not revived.
-- KEYS[1] stream of the entry, KEYS[2] delayed sorted set
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] due unix ms, ARGV[4] task name
-- Returns 1 when parked, 0 when the entry was already gone.
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if #entry == 0 then return 0 end
-- The entry id keeps members unique when two identical envelopes wait at once.
redis.call('ZADD', KEYS[2], ARGV[3], cmsgpack.pack(ARGV[4], ARGV[2], entry[1][2]))
return 1
