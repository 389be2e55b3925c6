-- Fail transition (rules 7, 8, 19, 22): Pending/Active -> Failed, each error callback queued once with the
-- failed input and the failure (and kept for the active TTL), success callbacks and everything below them
-- released, the signature released, the entry acknowledged, all atomically.
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] key prefix, ARGV[4] done TTL ms (0 deletes),
-- ARGV[5] active TTL ms, ARGV[6] failed input JSON, ARGV[7] failed signature id, ARGV[8] failed task name,
-- ARGV[9] error text, ARGV[10] failure kind
-- Returns {0} when not applied, else {1, missing callback ids...}.
local prefix, done_ttl = ARGV[3], tonumber(ARGV[4])
acknowledge(KEYS[2], ARGV[1], ARGV[2])
if not is_hash(KEYS[1]) then return {0} end
local found = redis.call('HMGET', KEYS[1], F_STATUS, F_SUCCESS_IDS, F_ERROR_IDS)
if found[1] ~= PENDING and found[1] ~= ACTIVE then return {0} end
if done_ttl ~= 0 then redis.call('HSET', KEYS[1], F_STATUS, FAILED, F_LAST_STATUS, found[1]) end
local missing, dispatched = dispatch_callbacks(prefix, found[3], ARGV[5], {E_KIND, KIND_ERROR_INPUT, E_PAYLOAD, ARGV[6],
  E_FAILURE_SIGNATURE_ID, ARGV[7], E_FAILURE_TASK_NAME, ARGV[8], E_FAILURE_ERROR, ARGV[9], E_FAILURE_KIND, ARGV[10]})
release_tree(prefix, found[2], done_ttl, dispatched)
release(KEYS[1], done_ttl)
local reply = {1}
for _, id in ipairs(missing) do table.insert(reply, id) end
return reply
