-- Fail transition (rules 7, 8, 19, 22, contract §5): Pending/Active -> Failed, each error callback queued once
-- with the failed input and the failure (and kept for the active TTL), success callbacks and everything below
-- them released, the signature released, the entry acknowledged, all atomically. A run that failed while its
-- signature was Suspended or Interrupted keeps its failure on it for resume instead.
-- KEYS[1] signature key, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] the store's hash tag, ARGV[4] done TTL ms (0 deletes),
-- ARGV[5] active TTL ms, ARGV[6] failed input JSON, ARGV[7] failed signature id, ARGV[8] failed task name,
-- ARGV[9] error text, ARGV[10] failure kind, ARGV[11] now (unix ms), ARGV[12] the run's traceparent ('' when not traced)
-- Returns {0} when not applied, {1, missing callback ids...} when applied, {2} when saved for resume.
local ctx = context(ARGV[3], KEYS[1], ARGV[5], tonumber(ARGV[4]), ARGV[11], ARGV[12])
acknowledge(KEYS[2], ARGV[1], ARGV[2])
local record = find_record(KEYS[1])
if not record then return {0} end
if is_paused(record[F_STATUS]) then
  save_outcome(ctx, KEYS[1], record, SAVED_FAILED, ARGV[6], ARGV[9], ARGV[10])
  return {2}
end
if record[F_STATUS] ~= PENDING and record[F_STATUS] ~= ACTIVE then return {0} end
local missing = finish(ctx, KEYS[1], ARGV[7], record, ARGV[6], {ARGV[7], ARGV[8], ARGV[9], ARGV[10]})
local reply = {1}
for _, id in ipairs(missing) do table.insert(reply, id) end
return reply
