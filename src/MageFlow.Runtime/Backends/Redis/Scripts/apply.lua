-- Applies one outbox message in the partition of its target (docs/redis-v2-design.md section 4): what a transition in
-- another partition had to do to this signature. A message may be applied twice (a forwarder that stopped between
-- applying and acknowledging it); the second time changes nothing: keeping alive, persisting, releasing, canceling and
-- lifecycle actions other than resume are the same done twice; a dispatch, a step, an item and a resume leave a mark
-- on their target (the message's id); a finished child leaves its id on its container. Messages are applied in any
-- order (together, or one taken over after a forwarder stopped): a keep-alive or persist that arrives after its target
-- was released finds the release's mark and leaves it to its done TTL.
-- KEYS[1] the target signature's key
-- ARGV[1] the store's hash tag, ARGV[2] now (unix ms), ARGV[3] the message's id (its source partition and entry id),
-- then the message's fields and values as its outbox holds them
-- Returns {1} applied, {0} applied before, {2} the target no longer exists.
local key = KEYS[1]
local fields = {unpack(ARGV, 4)}
local op, to, args = field_of(fields, O_OP), field_of(fields, O_TARGET), cmsgpack.unpack(field_of(fields, O_ARGS))
local ctx = context(ARGV[1], key, field_of(fields, O_ACTIVE), tonumber(field_of(fields, O_DONE) or ''), ARGV[2],
  field_of(fields, E_TRACE_PARENT))

-- The target's record when it exists (a key of another type counts as missing).
local function exists()
  local record = find_record(key)
  return record and record[F_TASK] and record
end

-- Marks the target (its record as read, written with the mark); false when this mark was there already.
local function first_time(record, mark)
  if record[mark] then return false end
  record[mark] = '1'
  write_record(key, record)
  return true
end

local function released()
  local record = find_record(key)
  return not record or record[F_RELEASED] ~= nil
end

if op == OP_KEEP then
  if not released() then redis.call('PEXPIRE', key, args[1]) end
elseif op == OP_PERSIST then
  if not released() then redis.call('PERSIST', key) end
elseif op == OP_RELEASE then
  if exists() then change_record(key, {F_RELEASED, '1'}) end
  release_tree(ctx, to, args[1], {})
elseif op == OP_CANCEL_WAITING then
  cancel_waiting(ctx, key)
elseif op == OP_DISPATCH then
  local callback = exists()
  if not callback then return {2} end
  if not first_time(callback, F_APPLIED_PREFIX .. ARGV[3]) then return {0} end
  dispatch_known(ctx, key, to, callback, (args[2] and callback[F_RECEIVES_SWARM]) and args[2] or args[1])
elseif op == OP_STEP then
  local chain_id, index, step_fields = args[1], args[2], args[3]
  local step = exists()
  if not step then
    local base, failure = missing_step(chain_id, index, to, step_fields)
    send(ctx, chain_id, OP_FINISH_CONTAINER, {base, failure})
    return {2}
  end
  if not first_time(step, F_APPLIED_PREFIX .. ARGV[3]) then return {0} end
  dispatch_known(ctx, key, to, step, step_fields)
elseif op == OP_ITEM then
  local swarm_id, item_fields = args[1], args[2]
  local item = find_record(key)
  local why = unstartable_item(item)
  if why then
    -- counted as a failed item, once: the swarm keeps one outcome per item
    send(ctx, swarm_id, OP_CHILD_FINISHED, {to, '{}', {to, SWARM_TASK, item_not_run(swarm_id, to, why), FAILURE_INVALID_INPUT}})
    return {2}
  end
  if not first_time(item, F_APPLIED_PREFIX .. ARGV[3]) then return {0} end
  dispatch_known(ctx, key, to, item, item_fields)
elseif op == OP_CHILD_FINISHED then
  local container = exists()
  if not container then return {2} end
  if not first_time(container, F_CHILD_FINISHED_PREFIX .. args[1]) then return {0} end
  child_finished(ctx, to, args[1], args[2], args[3] or nil)
elseif op == OP_FINISH_CONTAINER then
  if not exists() then return {2} end
  finish_container(ctx, key, to, args[1], args[2])
elseif op == OP_LIFECYCLE then
  local target = exists()
  if not target then return {2} end
  if args[1] == 'resume' and not first_time(target, F_APPLIED_PREFIX .. ARGV[3]) then return {0} end
  change_lifecycle(ctx, args[1], key, to)
else
  return redis.error_reply('unknown outbox message ' .. tostring(op))
end
return {1}
