-- Fail transition (rules 7, 8): Pending/Active -> Failed, error callbacks queued once with the failed input
-- and the failure, the rest released, the entry acknowledged, all atomically.
-- Status ints: 0 Pending, 1 Active, 3 Failed. Envelope kind 2 = ErrorInput.
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] key prefix, ARGV[4] done TTL ms (0 deletes),
-- ARGV[5] failed input JSON, ARGV[6] failed signature id, ARGV[7] failed task name, ARGV[8] error text
-- Returns {0} when not applied, else {1, missing callback ids...}.
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
local found = redis.call('HMGET', KEYS[1], 's', 'sc', 'ec')
if found[1] ~= '0' and found[1] ~= '1' then return {0} end
local prefix = ARGV[3]
local doneTtl = tonumber(ARGV[4])
-- With a done TTL of 0 the hash is deleted below: recording the final status would be wasted work.
if doneTtl ~= 0 then redis.call('HSET', KEYS[1], 's', '3', 'l', found[1]) end
local function release(key)
  if doneTtl == 0 then redis.call('DEL', key) else redis.call('PEXPIRE', key, doneTtl) end
end

local reply = {1}
if found[3] then
  for id in string.gmatch(found[3], '[^,]+') do
    local task = redis.call('HGET', prefix .. ':s:' .. id, 't')
    if task then
      redis.call('XADD', prefix .. ':q:' .. task, '*', 'i', id, 'k', '2', 'p', ARGV[5],
        'fs', ARGV[6], 'ft', ARGV[7], 'fe', ARGV[8])
    else
      table.insert(reply, id)
    end
  end
end
if found[2] then
  for id in string.gmatch(found[2], '[^,]+') do release(prefix .. ':s:' .. id) end
end
release(KEYS[1])
return reply
