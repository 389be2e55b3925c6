-- Dispatches a run of any signature (contract §5-§7): a task's run is queued; a chain dispatches its first
-- step; a swarm starts and fills. When awaited (RunAndWaitAsync), the signature is first marked so its finish
-- keeps the result and is published. Nothing is dispatched for a finished signature.
-- KEYS[1] signature hash
-- ARGV[1] the store's hash tag, ARGV[2] '1' when awaited, ARGV[3] active TTL ms, ARGV[4] done TTL ms, ARGV[5] now (unix ms),
-- ARGV[6] signature id, then the stream entry's fields and values (without the signature id)
-- Returns the status found, or -1 when the signature does not exist.
if not is_hash(KEYS[1]) then return -1 end
local found = redis.call('HMGET', KEYS[1], F_STATUS, F_TASK, F_KIND)
if not found[1] or not found[2] then return -1 end
if is_finished(found[1]) then return tonumber(found[1]) end
if ARGV[2] == '1' then redis.call('HSET', KEYS[1], F_AWAITED, '1') end
local fields = {unpack(ARGV, 7)}
local ctx = context(ARGV[1], KEYS[1], ARGV[3], tonumber(ARGV[4]), ARGV[5], field_of(fields, E_TRACE_PARENT))
dispatch_known(ctx, KEYS[1], ARGV[6], found[2], found[3], fields)
return tonumber(found[1])
