-- Complete transition (rules 6, 8, 19, 21, 22, contract §5) for a batch of finished runs, one round trip for all.
-- Per run: Active -> Done, each success callback queued once (and kept for the active TTL), error callbacks
-- and everything below them released, the signature released, the entry acknowledged. A run that finished
-- while its signature was Suspended or Interrupted keeps its result on it for resume instead.
-- Then, when the worker offers the run slots these runs free, it takes up to that many new entries of its queues and
-- starts them (take_runs, common.lua), so a callback queued here can start in this very step
-- (docs/redis-v2-design.md section 15).
-- KEYS: for each run i, KEYS[2i-1] signature key and KEYS[2i] stream of the entry; then the worker's task streams of
-- this partition, in the order to read them
-- ARGV[1] consumer group, ARGV[2] the store's hash tag, ARGV[3] now (unix ms), ARGV[4] the consumer that takes ('' when
-- none), ARGV[5] how many entries it takes at most, ARGV[6] active TTL ms of what it takes; for each run i: ARGV[5i+2]
-- entry id, ARGV[5i+3] done TTL ms (0 deletes), ARGV[5i+4] active TTL ms, ARGV[5i+5] result JSON, ARGV[5i+6] the
-- run's traceparent ('' when not traced)
-- Returns {one reply per run: 0 not applied, 1 applied, {1, missing callback ids...} applied with callbacks missing, 2
-- saved for resume, {-1, error}; why a queue could not be read ('' when all could); then take_runs' value per entry
-- taken}. A plain number where it will do: the client makes an object per value, and three for a one-item array.
local group, base, now, consumer, take, take_ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local runs = (#ARGV - 6) / 5
-- Every run of a batch is of one partition: one context, its TTLs and trace set per run.
local ctx = KEYS[1] and context(base, KEYS[1], nil, nil, now)

local function complete(signature, stream, entry, done_ttl, active_ttl, result, trace)
  -- A key of another type raises here, before any write: the entry stays pending and its next start finds
  -- the signature corrupt.
  local record = read_record(signature)
  acknowledge(stream, group, entry)
  if not record then return 0 end
  ctx.active, ctx.done, ctx.trace = active_ttl, done_ttl, trace ~= '' and trace or nil
  if is_paused(record[F_STATUS]) then
    save_outcome(ctx, signature, record, SAVED_DONE, result)
    return 2
  end
  if record[F_STATUS] ~= ACTIVE then return 0 end
  local id = id_of(ctx, signature)
  local missing = finish(ctx, signature, id, record, result, nil)
  if #missing == 0 then return 1 end
  local reply = {1}
  for _, missing_id in ipairs(missing) do table.insert(reply, missing_id) end
  return reply
end

local replies = {}
for i = 1, runs do
  replies[i] = guarded(complete, KEYS[2 * i - 1], KEYS[2 * i], ARGV[5 * i + 2], tonumber(ARGV[5 * i + 3]), ARGV[5 * i + 4], ARGV[5 * i + 5],
    ARGV[5 * i + 6])
  -- A run whose completion failed cannot run what is taken for its slot (the client gets its error, not the entry).
  if type(replies[i]) == 'table' and replies[i][1] == -1 then take = take - 1 end
end
local reply = {replies, ''}
if consumer ~= '' and take > 0 then
  -- What is started here is no run's outcome: no run's TTLs or trace.
  ctx.active, ctx.done, ctx.trace = nil, nil, nil
  local queues = {}
  for k = 2 * runs + 1, #KEYS do queues[#queues + 1] = KEYS[k] end
  take_runs(ctx, group, consumer, queues, take, take_ttl, reply)
end
return reply
