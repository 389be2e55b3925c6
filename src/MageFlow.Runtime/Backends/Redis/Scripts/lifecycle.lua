-- Lifecycle operations (contract §5, rules 24-26), each one atomic step. A finished signature (Done, Failed,
-- Canceled) is left as it is; the caller refuses the operation.
--   suspend:   Pending/Active -> Suspended.
--   interrupt: Pending/Active/Suspended -> Interrupted, and the id is published on the stop channel so the
--              worker running its body cancels it.
--   resume:    Suspended/Interrupted -> a saved outcome is applied (Done/Failed, callbacks once); else parked
--              runs are queued again (Pending); else the last status returns. Anything else: unchanged.
--   cancel:    any unfinished -> Canceled: parked runs and a saved outcome dropped, callbacks released, the id
--              published on the stop channel.
-- For a paused signature the last status is the one resume returns to.
-- KEYS[1] signature hash
-- ARGV[1] action, ARGV[2] key prefix, ARGV[3] done TTL ms (0 deletes), ARGV[4] active TTL ms, ARGV[5] now (unix ms),
-- ARGV[6] signature id
-- Returns {0} when the signature does not exist, else {1, status before, status after}.
local action, prefix, done_ttl, active_ttl, now, id = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local signature = KEYS[1]
if not is_hash(signature) then return {0} end
local found = redis.call('HMGET', signature, F_STATUS, F_LAST_STATUS, F_TASK, F_SUCCESS_IDS, F_ERROR_IDS, F_AWAITED,
  F_SAVED, F_SAVED_PAYLOAD, F_ERROR, F_FAILURE_KIND, F_PARKED)
local status, last, task, success_ids, error_ids, awaited = found[1], found[2], found[3], found[4], found[5], found[6] ~= false
if not status then return {0} end
if is_finished(status) then return {1, tonumber(status), tonumber(status)} end

local function drop_parked()
  redis.call('HDEL', signature, F_PARKED, F_PARKED_COUNT, F_SAVED, F_SAVED_PAYLOAD)
end

if action == 'suspend' then
  if status == PENDING or status == ACTIVE then
    redis.call('HSET', signature, F_STATUS, SUSPENDED, F_LAST_STATUS, status)
  end
elseif action == 'interrupt' then
  if status ~= INTERRUPTED then
    redis.call('HSET', signature, F_STATUS, INTERRUPTED, F_LAST_STATUS, is_paused(status) and last or status)
    redis.call('PUBLISH', prefix .. STOP_CHANNEL_PART, id)
  end
elseif action == 'resume' then
  if is_paused(status) then
    -- Expiring again from now, like any signature that just had activity.
    keep_with_callbacks(prefix, signature, active_ttl, success_ids, error_ids)
    if found[7] then
      local saved, payload = found[7], found[8]
      drop_parked()
      local failure = nil
      if saved == SAVED_FAILED then failure = {id, task, found[9], found[10]} end
      finish(prefix, signature, id, status, success_ids, error_ids, awaited, done_ttl, active_ttl, now, payload, failure)
    elseif found[11] then
      local runs = cmsgpack.unpack(found[11])
      drop_parked()
      redis.call('HSET', signature, F_STATUS, PENDING, F_LAST_STATUS, status)
      for _, run in ipairs(runs) do redis.call('XADD', queue_key(prefix, task), '*', unpack(run)) end
    else
      redis.call('HSET', signature, F_STATUS, last, F_LAST_STATUS, status)
    end
  end
elseif action == 'cancel' then
  drop_parked()
  redis.call('HSET', signature, F_STATUS, CANCELED, F_LAST_STATUS, status, F_FINISHED, now)
  release_tree(prefix, success_ids, done_ttl, {})
  release_tree(prefix, error_ids, done_ttl, {})
  redis.call('PUBLISH', prefix .. STOP_CHANNEL_PART, id)
  finished(prefix, signature, id, done_ttl, awaited)
else
  return redis.error_reply('unknown lifecycle action ' .. tostring(action))
end

-- With a done TTL of 0 a finished signature is gone: its status is what this step set.
local after = redis.call('HGET', signature, F_STATUS)
if not after then after = (action == 'cancel') and CANCELED or ((found[7] == SAVED_FAILED) and FAILED or DONE) end
return {1, tonumber(status), tonumber(after)}
