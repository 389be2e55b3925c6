-- A body stopped by interrupt or cancel (rule 25): the attempt is not counted and no callback fires. When the
-- signature is Suspended or Interrupted the run is parked on it for resume; when it was resumed before the
-- body stopped, the run is queued again; otherwise (canceled, finished, gone) it is dropped.
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] the store's hash tag
-- Returns 1 parked, 2 queued again, 0 dropped.
local entry = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2])
if acknowledge(KEYS[2], ARGV[1], ARGV[2]) == 0 or #entry == 0 or not is_hash(KEYS[1]) then return 0 end
local found = redis.call('HMGET', KEYS[1], F_STATUS, F_SUCCESS_IDS, F_ERROR_IDS, F_RUNNING_ENTRY, F_ATTEMPTS)
if found[4] == ARGV[2] then redis.call('HDEL', KEYS[1], F_RUNNING_ENTRY, F_STALLS) end
redis.call('HSET', KEYS[1], F_ATTEMPTS, tostring(math.max(0, (tonumber(found[5]) or 1) - 1)))
if is_paused(found[1]) then
  park(context(ARGV[3], KEYS[1]), KEYS[1], entry[1][2], found[2], found[3])
  return 1
end
if found[1] == PENDING or found[1] == ACTIVE then
  redis.call('XADD', KEYS[2], '*', unpack(entry[1][2]))
  return 2
end
return 0
