-- Hands a started run back at shutdown: the attempt is not counted and the start is no stall (the entry is
-- no longer marked as running), and the entry is marked long idle so the next reclaim by any worker takes it.
-- KEYS[1] signature key, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] consumer, ARGV[3] entry id
local record = find_record(KEYS[1])
if record and record[F_RUNNING_ENTRY] == ARGV[3] then
  record[F_RUNNING_ENTRY], record[F_STALLS] = nil, nil
  record[F_ATTEMPTS] = tostring(math.max(0, (tonumber(record[F_ATTEMPTS]) or 1) - 1))
  write_record(KEYS[1], record)
end
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[2], 0, ARGV[3], 'TIME', 1, 'JUSTID')
return 1
