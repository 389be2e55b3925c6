-- Dispatches a run of any signature (contract §5-§7): a task's run is queued; a chain dispatches its first
-- step; a swarm starts and fills. When awaited (RunAndWaitAsync), the signature is first marked so its finish
-- keeps the result and is published. Nothing is dispatched for a finished signature.
-- KEYS[1] signature key
-- ARGV[1] the store's hash tag, ARGV[2] '1' when awaited, ARGV[3] active TTL ms, ARGV[4] done TTL ms, ARGV[5] now (unix ms),
-- ARGV[6] signature id, then the stream entry's fields and values (without the signature id)
-- Returns the status found, or -1 when the signature does not exist.
local record = find_record(KEYS[1])
if not (record and record[F_STATUS] and record[F_TASK]) then return -1 end
local status = record[F_STATUS]
if is_finished(status) then return tonumber(status) end
if ARGV[2] == '1' then
  record[F_AWAITED] = '1'
  write_record(KEYS[1], record)
end
local fields = {unpack(ARGV, 7)}
local ctx = context(ARGV[1], KEYS[1], ARGV[3], tonumber(ARGV[4]), ARGV[5], field_of(fields, E_TRACE_PARENT))
dispatch_known(ctx, KEYS[1], ARGV[6], record, fields)
return tonumber(status)
