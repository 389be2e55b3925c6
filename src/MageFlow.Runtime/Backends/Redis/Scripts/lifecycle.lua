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
-- KEYS[1] signature key
-- ARGV[1] action, ARGV[2] the store's hash tag, ARGV[3] done TTL ms (0 deletes), ARGV[4] active TTL ms, ARGV[5] now (unix ms),
-- ARGV[6] signature id, ARGV[7] the caller's traceparent ('' when not traced): the parent of the runs it queues
-- (resumed parked runs keep their own)
-- Returns {0} when the signature does not exist, else {1, status before, status after}.
local action, root_id = ARGV[1], ARGV[6]
local ctx = context(ARGV[2], KEYS[1], ARGV[4], tonumber(ARGV[3]), ARGV[5], ARGV[7])
if action ~= 'suspend' and action ~= 'interrupt' and action ~= 'resume' and action ~= 'cancel' and action ~= 'retry' then
  return redis.error_reply('unknown lifecycle action ' .. tostring(action))
end

if action == 'retry' then
  local record = find_record(KEYS[1])
  if not (record and record[F_STATUS]) then return {0} end
  local status = tonumber(record[F_STATUS])
  local failed_input = record[F_FAILED_INPUT]
  if record[F_STATUS] ~= FAILED or record[F_KIND] or record[F_PARENT] or not failed_input then return {1, status, status} end
  record[F_STATUS], record[F_LAST_STATUS], record[F_ATTEMPTS] = PENDING, FAILED, '0'
  for _, name in ipairs({F_ERROR, F_FAILURE_KIND, F_FINISHED, F_FAILED_INPUT, F_RUNNING_ENTRY, F_STALLS}) do record[name] = nil end
  write_record(KEYS[1], record)
  keep_with_callbacks(ctx, KEYS[1], ctx.active, record)
  dispatch_known(ctx, KEYS[1], root_id, record, {E_KIND, KIND_MESSAGE, E_PAYLOAD, failed_input})
  return {1, status, tonumber(PENDING)}
end

local before, after, parent, task = change_lifecycle(ctx, action, KEYS[1], root_id)
if not before then return {0} end
if action == 'cancel' and not is_finished(before) and parent then canceled_child(ctx, parent, root_id, task) end
return {1, tonumber(before), tonumber(after)}
