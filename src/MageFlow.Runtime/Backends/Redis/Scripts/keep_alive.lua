-- Keeps the entries a consumer still holds (running, waiting for a slot, read ahead) from being reclaimed
-- (rule 18), and their signatures and callbacks from expiring (rule 19). An entry another consumer has taken
-- over is left alone: a worker that was frozen must not take it back.
-- KEYS: for each entry i, KEYS[2i-1] stream and KEYS[2i] signature key
-- ARGV[1] consumer group, ARGV[2] consumer, ARGV[3] the store's hash tag, ARGV[4] active TTL ms; ARGV[4+i] entry id
-- Returns the ids of kept signatures that are Interrupted or Canceled: their bodies must stop (rule 25), in
-- case the stop message never reached the worker.
local group, consumer, ttl = ARGV[1], ARGV[2], ARGV[4]
local ctx = KEYS[1] and context(ARGV[3], KEYS[1], ttl)
local stopped = {}
for i = 1, #KEYS / 2 do
  local stream, signature, entry = KEYS[2 * i - 1], KEYS[2 * i], ARGV[4 + i]
  if #redis.call('XPENDING', stream, group, entry, entry, 1, consumer) > 0 then
    -- min-idle 0 and JUSTID: resets the idle time without counting a delivery
    redis.call('XCLAIM', stream, group, consumer, 0, entry, 'JUSTID')
    local record = find_record(signature)
    if record then
      keep_with_callbacks(ctx, signature, ttl, record)
      if record[F_STATUS] == INTERRUPTED or record[F_STATUS] == CANCELED then
        table.insert(stopped, id_of(ctx, signature))
      end
    end
  end
end
return stopped
