-- Complete transition (rules 6, 8): Active -> Done, success callbacks queued once, the rest released,
-- the entry acknowledged, all atomically. Status ints: 1 Active, 2 Done. Envelope kind 1 = Result.
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] key prefix, ARGV[4] done TTL ms (0 deletes), ARGV[5] result JSON
-- Returns {0} when not applied, else {1, missing callback ids...}.
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
local found = redis.call('HMGET', KEYS[1], 's', 'sc', 'ec')
if found[1] ~= '1' then return {0} end
local prefix = ARGV[3]
local doneTtl = tonumber(ARGV[4])
-- With a done TTL of 0 the hash is deleted below: recording the final status would be wasted work.
if doneTtl ~= 0 then redis.call('HSET', KEYS[1], 's', '2', 'l', found[1]) end
local function release(key)
  if doneTtl == 0 then redis.call('DEL', key) else redis.call('PEXPIRE', key, doneTtl) end
end

local reply = {1}
if found[2] then
  for id in string.gmatch(found[2], '[^,]+') do
    local task = redis.call('HGET', prefix .. ':s:' .. id, 't')
    if task then
      redis.call('XADD', prefix .. ':q:' .. task, '*', 'i', id, 'k', '1', 'p', ARGV[5])
    else
      table.insert(reply, id)
    end
  end
end
if found[3] then
  for id in string.gmatch(found[3], '[^,]+') do release(prefix .. ':s:' .. id) end
end
release(KEYS[1])
return reply
