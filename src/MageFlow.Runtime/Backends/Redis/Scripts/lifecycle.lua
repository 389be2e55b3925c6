-- Lifecycle operations (contract §5, rules 24-26), each one atomic step, applied to a signature and, for a
-- chain or swarm, to every unfinished step or item, recursively. A finished signature (Done, Failed, Canceled)
-- is left as it is; the caller refuses the operation.
--   suspend:   Pending/Active -> Suspended.
--   interrupt: Pending/Active/Suspended -> Interrupted, and the id is published on the stop channel so the
--              worker running its body cancels it.
--   resume:    Suspended/Interrupted -> a saved outcome is applied (Done/Failed, callbacks once); else parked
--              runs are queued again (Pending); else the last status returns. Anything else: unchanged.
--   cancel:    any unfinished -> Canceled: parked runs and a saved outcome dropped, callbacks released, the id
--              published on the stop channel. A step or item canceled on its own fails its chain, or counts as
--              a failed item of its swarm.
--   retry:     Failed task (not a container, step or item) with its failed input kept -> Pending, attempts from
--              0, one run queued with that input, the signature and its callbacks kept for the active TTL.
-- For a paused signature the last status is the one resume returns to.
-- KEYS[1] signature hash
-- ARGV[1] action, ARGV[2] key prefix, ARGV[3] done TTL ms (0 deletes), ARGV[4] active TTL ms, ARGV[5] now (unix ms),
-- ARGV[6] signature id, ARGV[7] the caller's traceparent ('' when not traced): the parent of the runs it queues
-- (resumed parked runs keep their own)
-- Returns {0} when the signature does not exist, else {1, status before, status after}.
local action, prefix, root_id = ARGV[1], ARGV[2], ARGV[6]
local ctx = {prefix = prefix, done = tonumber(ARGV[3]), active = ARGV[4], now = ARGV[5], trace = ARGV[7] ~= '' and ARGV[7] or nil}
if action ~= 'suspend' and action ~= 'interrupt' and action ~= 'resume' and action ~= 'cancel' and action ~= 'retry' then
  return redis.error_reply('unknown lifecycle action ' .. tostring(action))
end

if action == 'retry' then
  local ok, found = pcall(redis.call, 'HMGET', KEYS[1], F_STATUS, F_TASK, F_KIND, F_PARENT, F_FAILED_INPUT, F_SUCCESS_IDS, F_ERROR_IDS)
  if not ok or not found[1] then return {0} end
  local status = tonumber(found[1])
  if found[1] ~= FAILED or found[3] or found[4] or not found[5] then return {1, status, status} end
  redis.call('HSET', KEYS[1], F_STATUS, PENDING, F_LAST_STATUS, FAILED, F_ATTEMPTS, '0')
  redis.call('HDEL', KEYS[1], F_ERROR, F_FAILURE_KIND, F_FINISHED, F_FAILED_INPUT, F_RUNNING_ENTRY, F_STALLS)
  keep_with_callbacks(prefix, KEYS[1], ctx.active, found[6], found[7])
  dispatch_known(ctx, KEYS[1], root_id, found[2], nil, {E_KIND, KIND_MESSAGE, E_PAYLOAD, found[5]})
  return {1, status, tonumber(PENDING)}
end

local function change(signature, id)
  local ok, found = pcall(redis.call, 'HMGET', signature, F_STATUS, F_LAST_STATUS, F_TASK, F_SUCCESS_IDS, F_ERROR_IDS,
    F_AWAITED, F_SAVED, F_SAVED_PAYLOAD, F_ERROR, F_FAILURE_KIND, F_PARKED, F_KIND, F_PARENT, F_CHILDREN)
  if not ok or not found[1] then return nil end
  local status, last, task, success_ids, error_ids, awaited = found[1], found[2], found[3], found[4], found[5], found[6] ~= false
  local kind, parent = found[12], found[13] or nil
  if is_finished(status) then return status, status end

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
      keep_with_callbacks(prefix, signature, ctx.active, success_ids, error_ids)
      if found[7] then
        local failure = nil
        if found[7] == SAVED_FAILED then failure = {id, task, found[9], found[10]} end
        drop_parked()
        finish(ctx, signature, id, status, success_ids, error_ids, awaited, found[8], failure, kind, parent)
      elseif found[11] then
        local runs = cmsgpack.unpack(found[11])
        drop_parked()
        redis.call('HSET', signature, F_STATUS, PENDING, F_LAST_STATUS, status)
        for _, run in ipairs(runs) do redis.call('XADD', queue_key(prefix, task), '*', unpack(run)) end
      else
        redis.call('HSET', signature, F_STATUS, last, F_LAST_STATUS, status)
      end
    end
  else -- cancel
    drop_parked()
    redis.call('HSET', signature, F_STATUS, CANCELED, F_LAST_STATUS, status, F_FINISHED, ctx.now)
    release_tree(prefix, success_ids, ctx.done, {})
    release_tree(prefix, error_ids, ctx.done, {})
    redis.call('PUBLISH', prefix .. STOP_CHANNEL_PART, id)
    finished(prefix, signature, id, ctx.done, awaited, kind)
  end

  local children = {}
  if kind == SIGNATURE_CHAIN then children = ids_of(found[14])
  elseif kind == SIGNATURE_SWARM then children = redis.call('LRANGE', workflow_key(prefix, id, 'i'), 0, -1) end
  for _, child in ipairs(children) do change(signature_key(prefix, child), child) end
  if kind == SIGNATURE_SWARM and action == 'resume' then
    fill(ctx, signature, id)
    complete_swarm_if_due(ctx, signature, id)
  end

  -- With a done TTL of 0 a finished signature is gone: its status is what this step set.
  local after = redis.call('HGET', signature, F_STATUS)
  if not after then after = (action == 'cancel') and CANCELED or ((found[7] == SAVED_FAILED) and FAILED or DONE) end
  return status, after, parent, task
end

local before, after, parent, task = change(KEYS[1], root_id)
if not before then return {0} end
if action == 'cancel' and not is_finished(before) and parent then
  child_finished(ctx, parent, root_id, '{}', {root_id, task, 'Signature ' .. root_id .. ' was canceled.', '0'})
end
return {1, tonumber(before), tonumber(after)}
