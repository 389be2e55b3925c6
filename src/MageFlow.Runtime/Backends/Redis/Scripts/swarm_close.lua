-- Closes a swarm: it takes no more items and completes once every item has finished (rule 29); an empty closed
-- swarm completes at once with an empty list. Closing again changes nothing.
-- KEYS[1] the swarm's key
-- ARGV[1] the store's hash tag, ARGV[2] active TTL ms, ARGV[3] done TTL ms, ARGV[4] now (unix ms), ARGV[5] swarm id,
-- ARGV[6] the caller's traceparent ('' when not traced): the parent of the runs completing the swarm queues
-- Returns 1, or 0 when the swarm does not exist.
local record = find_record(KEYS[1])
if not record or record[F_KIND] ~= SIGNATURE_SWARM then return 0 end
if record[F_SWARM_CLOSED] or is_finished(record[F_STATUS]) then return 1 end
record[F_SWARM_CLOSED] = '1'
advance_swarm(context(ARGV[1], KEYS[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[6]), KEYS[1], ARGV[5], record)
return 1
