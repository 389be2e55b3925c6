-- Closes a swarm: it takes no more items and completes once every item has finished (rule 29); an empty closed
-- swarm completes at once with an empty list. Closing again changes nothing.
-- KEYS[1] the swarm's hash
-- ARGV[1] key prefix, ARGV[2] active TTL ms, ARGV[3] done TTL ms, ARGV[4] now (unix ms), ARGV[5] swarm id,
-- ARGV[6] the caller's traceparent ('' when not traced): the parent of the runs completing the swarm queues
-- Returns 1, or 0 when the swarm does not exist.
local ok, found = pcall(redis.call, 'HMGET', KEYS[1], F_KIND, F_STATUS, F_SWARM_CLOSED)
if not ok or found[1] ~= SIGNATURE_SWARM then return 0 end
if found[3] or is_finished(found[2]) then return 1 end
redis.call('HSET', KEYS[1], F_SWARM_CLOSED, '1')
complete_swarm_if_due({prefix = ARGV[1], active = ARGV[2], done = tonumber(ARGV[3]), now = ARGV[4],
  trace = ARGV[6] ~= '' and ARGV[6] or nil}, KEYS[1], ARGV[5])
return 1
