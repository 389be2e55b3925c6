-- Adds items to a swarm, all or none (rule 28, contract section 7), then fills it. Items with their own message (and
-- every item once the swarm started) may run at once; the others wait for the swarm's RunAsync. Items of another
-- partition were claimed there first (claim_children.lua); this checks and claims the ones of its own.
-- KEYS[1] the swarm's key
-- ARGV[1] the store's hash tag, ARGV[2] active TTL ms, ARGV[3] done TTL ms, ARGV[4] now (unix ms), ARGV[5] swarm id,
-- ARGV[6] n, then per item i: ARGV[5+2i] item id, ARGV[6+2i] its message ('' for none); last, ARGV[7+2n] the caller's
-- traceparent ('' when not traced): the parent of the items' runs it dispatches
-- Returns {'ok'}, {'missing'}, {'closed', why}, {'full', added}, {'item-missing', id}, {'item-taken', id}.
local swarm, id, n = KEYS[1], ARGV[5], tonumber(ARGV[6])
local ctx = context(ARGV[1], swarm, ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[7 + 2 * n])
local record = find_record(swarm)
if not record or record[F_KIND] ~= SIGNATURE_SWARM then return {'missing'} end
if is_finished(record[F_STATUS]) then return {'closed', 'it is ' .. STATUS_NAMES[record[F_STATUS]]} end
if record[F_SWARM_CLOSED] then return {'closed', 'it was closed'} end
local added, max_tasks = tonumber(record[F_SWARM_ADDED] or '0'), tonumber(record[F_SWARM_MAX_TASKS] or '')
if max_tasks and added + n > max_tasks then return {'full', added} end
local seen, own = {}, {}
for i = 1, n do
  local item_id = ARGV[5 + 2 * i]
  local key = here(ctx, item_id)
  if key then
    local problem = unclaimable(key, item_id, id, false)
    if problem then return {problem[1], item_id} end
    own[item_id] = key
  end
  if seen[item_id] then return {'item-taken', item_id} end
  seen[item_id] = true
end
local lists = {i = workflow_key(ctx.prefix, id, 'i'), w = workflow_key(ctx.prefix, id, 'w'), r = workflow_key(ctx.prefix, id, 'r')}
for i = 1, n do
  local item_id, message = ARGV[5 + 2 * i], ARGV[6 + 2 * i]
  if own[item_id] then
    change_record(own[item_id], {F_PARENT, id})
    redis.call('PEXPIRE', own[item_id], ctx.active)
  end
  redis.call('RPUSH', lists.i, item_id)
  redis.call('RPUSH', (message ~= '' or record[F_SWARM_STARTED]) and lists.r or lists.w, cmsgpack.pack(item_id, message))
end
for _, list in pairs(lists) do redis.call('PEXPIRE', list, ctx.active) end
added = added + n
record[F_SWARM_ADDED] = tostring(added)
if max_tasks and record[F_SWARM_CLOSE_ON_MAX] == '1' and added >= max_tasks then record[F_SWARM_CLOSED] = '1' end
advance_swarm(ctx, swarm, id, record)
return {'ok'}
