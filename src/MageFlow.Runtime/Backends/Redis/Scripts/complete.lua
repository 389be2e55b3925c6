-- Complete transition (rules 6, 8, 19, 21, 22) for a batch of finished runs, one round trip for all of them.
-- Per run: Active -> Done, each success callback queued once (and kept for the active TTL), error callbacks
-- and everything below them released, the signature released, the entry acknowledged.
-- KEYS: for each run i, KEYS[2i-1] signature hash and KEYS[2i] stream of the entry
-- ARGV[1] consumer group, ARGV[2] key prefix; for each run i: ARGV[4i-1] entry id, ARGV[4i] done TTL ms
-- (0 deletes), ARGV[4i+1] active TTL ms, ARGV[4i+2] result JSON
-- Returns one reply per run: {0} when not applied, {1, missing callback ids...} when applied, {-1, error}.
local group, prefix = ARGV[1], ARGV[2]

local function complete(signature, stream, entry, done_ttl, active_ttl, result)
  -- A key of another type raises here, before any write: the entry stays pending and its next start finds
  -- the signature corrupt.
  local found = redis.call('HMGET', signature, F_STATUS, F_SUCCESS_IDS, F_ERROR_IDS)
  acknowledge(stream, group, entry)
  if found[1] ~= ACTIVE then return {0} end
  -- With a done TTL of 0 the hash is deleted below: recording the final status would be wasted work.
  if done_ttl ~= 0 then redis.call('HSET', signature, F_STATUS, DONE, F_LAST_STATUS, found[1]) end
  local missing, dispatched = dispatch_callbacks(prefix, found[2], active_ttl, {E_KIND, KIND_RESULT, E_PAYLOAD, result})
  release_tree(prefix, found[3], done_ttl, dispatched)
  release(signature, done_ttl)
  local reply = {1}
  for _, id in ipairs(missing) do table.insert(reply, id) end
  return reply
end

local replies = {}
for i = 1, #KEYS / 2 do
  replies[i] = guarded(complete, KEYS[2 * i - 1], KEYS[2 * i], ARGV[4 * i - 1], tonumber(ARGV[4 * i]), ARGV[4 * i + 1], ARGV[4 * i + 2])
end
return replies
