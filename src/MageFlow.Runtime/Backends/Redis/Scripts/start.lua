-- Start transition (rules 10, 12, 13) for a batch of entries: one round trip for all of them.
-- Status ints: 0 Pending, 1 Active (SignatureStatus).
-- KEYS: for each entry i, KEYS[2i-1] signature hash and KEYS[2i] stream of the entry
-- ARGV[1] consumer group; ARGV[1+i] entry id of entry i
-- Returns one reply per entry: {0} missing, {1, hash} started, {2, hash} not runnable;
-- an entry is acknowledged (and removed) unless started.
local function start(signature, stream, entry)
  -- Reads the hash once and patches the copy it returns: two commands instead of four.
  local fields = redis.call('HGETALL', signature)
  if #fields == 0 then
    redis.call('XACK', stream, ARGV[1], entry)
    redis.call('XDEL', stream, entry)
    return {0}
  end
  local statusAt, lastAt, attemptsAt
  for i = 1, #fields, 2 do
    local name = fields[i]
    if name == 's' then statusAt = i + 1 elseif name == 'l' then lastAt = i + 1 elseif name == 'a' then attemptsAt = i + 1 end
  end
  local status = statusAt and fields[statusAt]
  if status ~= '0' and status ~= '1' then
    redis.call('XACK', stream, ARGV[1], entry)
    redis.call('XDEL', stream, entry)
    return {2, fields}
  end
  local attempts = tostring((attemptsAt and tonumber(fields[attemptsAt]) or 0) + 1)
  if status == '1' then
    redis.call('HSET', signature, 'a', attempts)
  else
    redis.call('HSET', signature, 's', '1', 'l', status, 'a', attempts)
    fields[statusAt] = '1'
    if lastAt then fields[lastAt] = status else table.insert(fields, 'l'); table.insert(fields, status) end
  end
  if attemptsAt then fields[attemptsAt] = attempts else table.insert(fields, 'a'); table.insert(fields, attempts) end
  return {1, fields}
end

local replies = {}
for i = 1, #KEYS / 2 do
  replies[i] = start(KEYS[2 * i - 1], KEYS[2 * i], ARGV[1 + i])
end
return replies
