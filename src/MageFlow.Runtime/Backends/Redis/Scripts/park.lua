-- A body stopped by interrupt or cancel (rule 25): the attempt is not counted and no callback fires. When the
-- signature is Suspended or Interrupted the run is parked on it for resume; when it was resumed before the
-- body stopped, the run is queued again; otherwise (canceled, finished, gone) it is dropped.
-- KEYS[1] signature key, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] the store's hash tag
-- Returns 1 parked, 2 queued again, 0 dropped.
local entry = redis.call('XRANGE', KEYS[2], ARGV[2], ARGV[2])
if acknowledge(KEYS[2], ARGV[1], ARGV[2]) == 0 or #entry == 0 then return 0 end
local record = find_record(KEYS[1])
if not record then return 0 end
if record[F_RUNNING_ENTRY] == ARGV[2] then record[F_RUNNING_ENTRY], record[F_STALLS] = nil, nil end
record[F_ATTEMPTS] = tostring(math.max(0, (tonumber(record[F_ATTEMPTS]) or 1) - 1))
local status = record[F_STATUS]
if is_paused(status) then
  park(context(ARGV[3], KEYS[1]), KEYS[1], record, entry[1][2])
  return 1
end
write_record(KEYS[1], record)
if status == PENDING or status == ACTIVE then
  redis.call('XADD', KEYS[2], '*', unpack(entry[1][2]))
  return 2
end
return 0
