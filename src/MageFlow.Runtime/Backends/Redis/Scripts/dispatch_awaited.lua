-- Queues a run someone waits for (contract §5, RunAndWaitAsync): unless the signature is gone or finished, it
-- is marked awaited (its finish then keeps the result and is published) and the run queued, in one step.
-- KEYS[1] signature hash, KEYS[2] stream of the task
-- ARGV: the stream entry's fields and values
-- Returns the status found, or -1 when the signature does not exist.
if not is_hash(KEYS[1]) then return -1 end
local status = redis.call('HGET', KEYS[1], F_STATUS)
if not status then return -1 end
if is_finished(status) then return tonumber(status) end
redis.call('HSET', KEYS[1], F_AWAITED, '1')
redis.call('XADD', KEYS[2], '*', unpack(ARGV))
return tonumber(status)
