-- Start transition (rules 10, 12, 13, 18-20) for a batch of entries: one round trip for all of them.
-- KEYS: for each entry i, KEYS[2i-1] signature hash and KEYS[2i] stream of the entry
-- ARGV[1] consumer group, ARGV[2] key prefix; for each entry i: ARGV[2i+1] entry id, ARGV[2i+2] active TTL ms
-- Returns one reply per entry: {0} missing, {1, hash, stalls} started, {2, hash} not runnable,
-- {3, problem} corrupt; an entry is acknowledged (and removed) unless started.
-- stalls: how many times in a row this same entry was started and never finished (take-overs).
local group, prefix = ARGV[1], ARGV[2]

local function start(signature, stream, entry, ttl)
  -- Reads the hash once and patches the copy it returns. A key of another type raises here, before any
  -- write, and the loop below reports it as corrupt.
  local fields = redis.call('HGETALL', signature)
  if #fields == 0 then
    acknowledge(stream, group, entry)
    return {0}
  end
  local at = {}
  for i = 1, #fields, 2 do at[fields[i]] = i + 1 end
  if not (at[F_TASK] and at[F_MESSAGE_TYPE] and at[F_RETURN_FIELD]) then
    acknowledge(stream, group, entry)
    return {3, 'it lacks its task name, message type or return field'}
  end
  local status = at[F_STATUS] and fields[at[F_STATUS]]
  if status ~= PENDING and status ~= ACTIVE then
    acknowledge(stream, group, entry)
    return {2, fields}
  end
  local attempts = tostring((at[F_ATTEMPTS] and tonumber(fields[at[F_ATTEMPTS]]) or 0) + 1)
  local stalls = 0
  if at[F_RUNNING_ENTRY] and fields[at[F_RUNNING_ENTRY]] == entry then
    stalls = (at[F_STALLS] and tonumber(fields[at[F_STALLS]]) or 0) + 1
  end
  local function put(name, value)
    if at[name] then fields[at[name]] = value
    else
      table.insert(fields, name); table.insert(fields, value)
      at[name] = #fields
    end
  end
  if status == PENDING then
    redis.call('HSET', signature, F_STATUS, ACTIVE, F_LAST_STATUS, status,
      F_ATTEMPTS, attempts, F_RUNNING_ENTRY, entry, F_STALLS, tostring(stalls))
    put(F_STATUS, ACTIVE)
    put(F_LAST_STATUS, status)
  else
    redis.call('HSET', signature, F_ATTEMPTS, attempts, F_RUNNING_ENTRY, entry, F_STALLS, tostring(stalls))
  end
  put(F_ATTEMPTS, attempts)
  keep_with_callbacks(prefix, signature, ttl,
    at[F_SUCCESS_IDS] and fields[at[F_SUCCESS_IDS]], at[F_ERROR_IDS] and fields[at[F_ERROR_IDS]])
  return {1, fields, stalls}
end

local replies = {}
for i = 1, #KEYS / 2 do
  local stream, entry = KEYS[2 * i], ARGV[2 * i + 1]
  local reply = guarded(start, KEYS[2 * i - 1], stream, entry, ARGV[2 * i + 2])
  if reply[1] == -1 then
    -- Not a hash MageFlow wrote: the run can never start, so its entry goes.
    acknowledge(stream, group, entry)
    reply = {3, reply[2]}
  end
  replies[i] = reply
end
return replies
