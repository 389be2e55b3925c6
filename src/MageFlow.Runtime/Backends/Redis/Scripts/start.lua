-- Start transition (rules 10, 12, 13). Status ints: 0 Pending, 1 Active (SignatureStatus).
-- KEYS[1] signature hash, KEYS[2] stream of the entry
-- ARGV[1] consumer group, ARGV[2] entry id
-- Returns {0} missing, {1, hash} started, {2, hash} not runnable; the entry is acknowledged unless started.
-- Reads the hash once and patches the copy it returns: two commands instead of four on the hot path.
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return {0}
end
local statusAt, lastAt, attemptsAt
for i = 1, #fields, 2 do
  local name = fields[i]
  if name == 's' then statusAt = i + 1 elseif name == 'l' then lastAt = i + 1 elseif name == 'a' then attemptsAt = i + 1 end
end
local status = statusAt and fields[statusAt]
if status ~= '0' and status ~= '1' then
  redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[2], ARGV[2])
  return {2, fields}
end
local attempts = tostring((attemptsAt and tonumber(fields[attemptsAt]) or 0) + 1)
if status == '1' then
  redis.call('HSET', KEYS[1], 'a', attempts)
else
  redis.call('HSET', KEYS[1], 's', '1', 'l', status, 'a', attempts)
  fields[statusAt] = '1'
  if lastAt then fields[lastAt] = status else table.insert(fields, 'l'); table.insert(fields, status) end
end
if attemptsAt then fields[attemptsAt] = attempts else table.insert(fields, 'a'); table.insert(fields, attempts) end
return {1, fields}
