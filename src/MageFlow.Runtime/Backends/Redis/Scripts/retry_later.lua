-- Retry-later transition (rules 11, 19, 26): acknowledges the entry and parks one copy of its fields in the
-- delayed set; the signature and its callbacks are kept until the retry is due plus the active TTL.
-- The copy is read from the stream itself, and only while the entry is still pending, so an entry another
-- worker already finished is not revived.
-- A suspended task is not retried: when Suspended or Interrupted the run is parked on the signature for
-- resume; when finished (Canceled) it is dropped.
-- KEYS[1] stream of the entry, KEYS[2] delayed sorted set, KEYS[3] signature key
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] due unix ms, ARGV[4] task name, ARGV[5] the store's hash tag,
-- ARGV[6] how long to keep the signature, in ms from now
-- Returns 1 when delayed, 2 when parked, 0 when the entry was already finished with or the signature finished.
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if acknowledge(KEYS[1], ARGV[1], ARGV[2]) == 0 or #entry == 0 then return 0 end
local record = find_record(KEYS[3]) or {}
local status = record[F_STATUS]
if is_paused(status) then
  park(context(ARGV[5], KEYS[3]), KEYS[3], record, entry[1][2])
  return 2
end
if is_finished(status) then return 0 end
-- The entry id keeps members unique when two identical envelopes wait at once.
redis.call('ZADD', KEYS[2], ARGV[3], cmsgpack.pack(ARGV[4], ARGV[2], entry[1][2]))
if status then keep_with_callbacks(context(ARGV[5], KEYS[3], ARGV[6]), KEYS[3], ARGV[6], record) end
return 1
