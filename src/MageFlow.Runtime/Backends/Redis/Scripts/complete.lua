-- Complete transition (rules 6, 8, 19, 21, 22, contract §5) for a batch of finished runs, one round trip for all.
-- Per run: Active -> Done, each success callback queued once (and kept for the active TTL), error callbacks
-- and everything below them released, the signature released, the entry acknowledged. A run that finished
-- while its signature was Suspended or Interrupted keeps its result on it for resume instead.
-- KEYS: for each run i, KEYS[2i-1] signature key and KEYS[2i] stream of the entry
-- ARGV[1] consumer group, ARGV[2] the store's hash tag, ARGV[3] now (unix ms); for each run i: ARGV[5i-1] entry id,
-- ARGV[5i] done TTL ms (0 deletes), ARGV[5i+1] active TTL ms, ARGV[5i+2] result JSON, ARGV[5i+3] the run's
-- traceparent ('' when not traced)
-- Returns one reply per run: {0} not applied, {1, missing callback ids...} applied, {2} saved for resume, {-1, error}.
local group, base, now = ARGV[1], ARGV[2], ARGV[3]
-- Every run of a batch is of one partition: one context, its TTLs and trace set per run.
local ctx = KEYS[1] and context(base, KEYS[1], nil, nil, now)

local function complete(signature, stream, entry, done_ttl, active_ttl, result, trace)
  -- A key of another type raises here, before any write: the entry stays pending and its next start finds
  -- the signature corrupt.
  local record = read_record(signature)
  acknowledge(stream, group, entry)
  if not record then return {0} end
  ctx.active, ctx.done, ctx.trace = active_ttl, done_ttl, trace ~= '' and trace or nil
  if is_paused(record[F_STATUS]) then
    save_outcome(ctx, signature, record, SAVED_DONE, result)
    return {2}
  end
  if record[F_STATUS] ~= ACTIVE then return {0} end
  local id = id_of(ctx, signature)
  local missing = finish(ctx, signature, id, record, result, nil)
  local reply = {1}
  for _, missing_id in ipairs(missing) do table.insert(reply, missing_id) end
  return reply
end

local replies = {}
for i = 1, #KEYS / 2 do
  replies[i] = guarded(complete, KEYS[2 * i - 1], KEYS[2 * i], ARGV[5 * i - 1], tonumber(ARGV[5 * i]), ARGV[5 * i + 1], ARGV[5 * i + 2],
    ARGV[5 * i + 3])
end
return replies
