-- Complete transition (rules 6, 8) for a batch of finished runs, one round trip for all of them.
-- Per run: Active -> Done, success callbacks queued once, error callbacks and the signature released, the
-- entry acknowledged. Status ints: 1 Active, 2 Done. Envelope kind 1 = Result.
-- KEYS: for each run i, KEYS[2i-1] signature hash and KEYS[2i] stream of the entry
-- ARGV[1] consumer group, ARGV[2] key prefix; for each run i: ARGV[3i] entry id, ARGV[3i+1] done TTL ms
-- (0 deletes), ARGV[3i+2] result JSON
-- Returns one reply per run: {0} when not applied, else {1, missing callback ids...}.
local prefix = ARGV[2]
local replies = {}
for i = 1, #KEYS / 2 do
  local signature, stream = KEYS[2 * i - 1], KEYS[2 * i]
  local entry, doneTtl, result = ARGV[3 * i], tonumber(ARGV[3 * i + 1]), ARGV[3 * i + 2]
  redis.call('XACK', stream, ARGV[1], entry)
  redis.call('XDEL', stream, entry)
  local found = redis.call('HMGET', signature, 's', 'sc', 'ec')
  if found[1] ~= '1' then
    replies[i] = {0}
  else
    local function release(key)
      if doneTtl == 0 then redis.call('DEL', key) else redis.call('PEXPIRE', key, doneTtl) end
    end
    if doneTtl ~= 0 then redis.call('HSET', signature, 's', '2', 'l', found[1]) end
    local reply = {1}
    if found[2] then
      for id in string.gmatch(found[2], '[^,]+') do
        local task = redis.call('HGET', prefix .. ':s:' .. id, 't')
        if task then
          redis.call('XADD', prefix .. ':q:' .. task, '*', 'i', id, 'k', '1', 'p', result)
        else
          table.insert(reply, id)
        end
      end
    end
    if found[3] then
      for id in string.gmatch(found[3], '[^,]+') do release(prefix .. ':s:' .. id) end
    end
    release(signature)
    replies[i] = reply
  end
end
return replies
