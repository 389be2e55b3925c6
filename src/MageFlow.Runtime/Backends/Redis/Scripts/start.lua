-- Start transition (rules 10, 12, 13, 18-20, 24) for a batch of entries: one round trip for all of them.
-- KEYS: for each entry i, KEYS[2i-1] signature hash and KEYS[2i] stream of the entry
-- ARGV[1] consumer group, ARGV[2] the store's hash tag, ARGV[3] now (unix ms); for each entry i: ARGV[2i+2] entry id,
-- ARGV[2i+3] active TTL ms
-- Returns one reply per entry: {0} missing; {1, stalls, attempts, last status, created, strings} started;
-- {2, status} not runnable; {3, problem} corrupt; {4, status} parked (Suspended or Interrupted: the run is saved on
-- the signature for resume). An entry is acknowledged unless started. stalls: how many times in a row this same
-- entry was started and never finished (take-overs). strings: one cmsgpack array {task, message type, return field,
-- success ids, error ids, then each bound kwarg's field (with its prefix) and JSON}, read by PackedStrings in C#:
-- one value for the client to parse instead of one per string.
-- The reply carries only what a run needs: one HGETALL is the cheapest read of a small hash, and every value
-- converted into Lua and back out costs more than the command itself.
local group, base, now = ARGV[1], ARGV[2], ARGV[3]
-- Every entry of a batch is of one partition.
local ctx = KEYS[1] and context(base, KEYS[1], nil, nil, now)
local KWARG_PREFIX_LENGTH = #F_KWARG_PREFIX

local NUMERIC_FIELDS = {F_STATUS, F_LAST_STATUS, F_ATTEMPTS, F_CREATED}

-- Why a hash cannot be read as a signature, or nil: a required field missing, or a number that is not one.
local function unreadable(at)
  if not (at[F_TASK] and at[F_MESSAGE_TYPE] and at[F_RETURN_FIELD] and at[F_STATUS]) then
    return 'it lacks its task name, message type, return field or status'
  end
  for i = 1, #NUMERIC_FIELDS do
    local name = NUMERIC_FIELDS[i]
    if at[name] and not tonumber(at[name]) then
      return 'its field ' .. name .. ' is not a number'
    end
  end
  return nil
end

-- A hash that cannot be read never runs, yet ends as every signature does: Failed, its error callbacks
-- queued once with an empty input and the failure, its entry acknowledged (rule 20).
local function fail_corrupt(signature, stream, entry, ttl, at, problem)
  acknowledge(stream, group, entry)
  local status = at[F_STATUS]
  if status == DONE or status == FAILED then return end
  redis.call('HSET', signature, F_STATUS, FAILED, F_LAST_STATUS, status or PENDING)
  local id = id_of(ctx, signature)
  local task = at[F_TASK] or string.sub(stream, #ctx.prefix + #QUEUE_KEY_PART + 1)
  dispatch_callbacks(context(base, signature, ttl, tonumber(ttl), now), at[F_ERROR_IDS], {E_KIND, KIND_ERROR_INPUT, E_PAYLOAD, '{}',
    E_FAILURE_SIGNATURE_ID, id, E_FAILURE_TASK_NAME, task,
    E_FAILURE_ERROR, "Task '" .. task .. "': the stored signature " .. id .. ' is corrupt (' .. problem .. '); it was not run.',
    E_FAILURE_KIND, FAILURE_INVALID_INPUT})
end

local function start(signature, stream, entry, ttl)
  -- A key of another type raises here, before any write, and the loop below reports it as corrupt.
  local all = redis.call('HGETALL', signature)
  if #all == 0 then
    acknowledge(stream, group, entry)
    return {0}
  end
  -- The reply's strings: five fixed ones (filled in below, once known), then the kwargs as they come.
  local at, strings = {}, {'', '', '', '', ''}
  for i = 1, #all, 2 do
    local name = all[i]
    if string.sub(name, 1, KWARG_PREFIX_LENGTH) == F_KWARG_PREFIX then
      strings[#strings + 1] = name
      strings[#strings + 1] = all[i + 1]
    else
      at[name] = all[i + 1]
    end
  end
  local problem = unreadable(at)
  if problem then
    fail_corrupt(signature, stream, entry, ttl, at, problem)
    return {3, problem}
  end
  local status = at[F_STATUS]
  if is_paused(status) then
    local run = redis.call('XRANGE', stream, entry, entry)
    if acknowledge(stream, group, entry) == 1 and #run > 0 then park(ctx, signature, run[1][2], at[F_SUCCESS_IDS], at[F_ERROR_IDS]) end
    return {4, status}
  end
  if status ~= PENDING and status ~= ACTIVE then
    acknowledge(stream, group, entry)
    return {2, status}
  end
  local attempts = (tonumber(at[F_ATTEMPTS]) or 0) + 1
  local stalls = 0
  if at[F_RUNNING_ENTRY] == entry then stalls = (tonumber(at[F_STALLS]) or 0) + 1 end
  local last_status = at[F_LAST_STATUS] or PENDING
  if status == PENDING then
    last_status = PENDING
    redis.call('HSET', signature, F_STATUS, ACTIVE, F_LAST_STATUS, PENDING,
      F_ATTEMPTS, attempts, F_RUNNING_ENTRY, entry, F_STALLS, stalls, F_STARTED, now)
  else
    redis.call('HSET', signature, F_ATTEMPTS, attempts, F_RUNNING_ENTRY, entry, F_STALLS, stalls, F_STARTED, now)
  end
  keep_with_callbacks(ctx, signature, ttl, at[F_SUCCESS_IDS], at[F_ERROR_IDS])
  strings[1], strings[2], strings[3] = at[F_TASK], at[F_MESSAGE_TYPE], at[F_RETURN_FIELD]
  strings[4], strings[5] = at[F_SUCCESS_IDS] or '', at[F_ERROR_IDS] or ''
  return {1, stalls, attempts, tonumber(last_status), tonumber(at[F_CREATED]) or 0, cmsgpack.pack(strings)}
end

local replies = {}
for i = 1, #KEYS / 2 do
  local stream, entry = KEYS[2 * i], ARGV[2 * i + 2]
  local reply = guarded(start, KEYS[2 * i - 1], stream, entry, ARGV[2 * i + 3])
  if reply[1] == -1 then
    -- Not a hash MageFlow wrote: the run can never start, so its entry goes.
    acknowledge(stream, group, entry)
    reply = {3, reply[2]}
  end
  replies[i] = reply
end
return replies
