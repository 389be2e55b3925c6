-- Removes consumers of stopped workers from a task stream's group: those that hold no entry and have been
-- idle for ARGV[2] ms, and ARGV[3] (a worker shutting down) when it holds none. Holding no entry is checked
-- in the same atomic step as the removal, so no pending entry is ever orphaned.
-- KEYS[1] stream; ARGV[1] consumer group, ARGV[2] idle ms, ARGV[3] stopping consumer or ''
-- Returns how many consumers were removed.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return 0 end -- no such group
local idle_ms, stopping, removed = tonumber(ARGV[2]), ARGV[3], 0
for _, consumer in ipairs(consumers) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['pending'] == 0 and (info['name'] == stopping or info['idle'] >= idle_ms) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
