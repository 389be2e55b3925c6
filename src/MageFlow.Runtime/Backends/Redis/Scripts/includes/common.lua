-- Helpers every script may use; the constants above them (statuses, kinds, key parts, field names) are
-- generated from the C# definitions (RedisScript.Prelude), never spelled out in the scripts.

local function signature_key(prefix, id) return prefix .. SIGNATURE_KEY_PART .. id end
local function queue_key(prefix, task) return prefix .. QUEUE_KEY_PART .. task end

-- The ids of a comma-joined callback list, each once, in order.
local function ids_of(joined)
  local ids, seen = {}, {}
  if joined then
    for id in string.gmatch(joined, '[^,]+') do
      if not seen[id] then seen[id] = true; table.insert(ids, id) end
    end
  end
  return ids
end

local function acknowledge(stream, group, entry)
  redis.call('XACK', stream, group, entry)
  redis.call('XDEL', stream, entry)
end

local function is_hash(key) return redis.call('TYPE', key)['ok'] == 'hash' end

-- Keeps a signature and the callbacks it can still fire for ttl ms from now (rule 19).
local function keep_with_callbacks(prefix, signature, ttl, success_ids, error_ids)
  redis.call('PEXPIRE', signature, ttl)
  for _, joined in ipairs({success_ids, error_ids}) do
    for _, id in ipairs(ids_of(joined)) do redis.call('PEXPIRE', signature_key(prefix, id), ttl) end
  end
end

-- Finished: kept for the done TTL, or deleted at once when it is 0.
local function release(key, done_ttl)
  if done_ttl == 0 then redis.call('DEL', key) else redis.call('PEXPIRE', key, done_ttl) end
end

-- Releases callbacks that can never fire now and every callback below them; `spare` holds ids not to touch
-- (the ones just dispatched).
local function release_tree(prefix, joined, done_ttl, spare)
  local seen, stack = {}, ids_of(joined)
  for id in pairs(spare) do seen[id] = true end
  while #stack > 0 do
    local id = table.remove(stack)
    if not seen[id] then
      seen[id] = true
      local key = signature_key(prefix, id)
      -- pcall: a key of another type (not MageFlow's) is left alone, without a TYPE call per callback
      local ok, children = pcall(redis.call, 'HMGET', key, F_SUCCESS_IDS, F_ERROR_IDS)
      if ok then
        for _, joined_children in ipairs({children[1], children[2]}) do
          for _, child in ipairs(ids_of(joined_children)) do table.insert(stack, child) end
        end
        release(key, done_ttl)
      end
    end
  end
end

-- Queues one run of each callback (once each, rule 22), keeping it for the active TTL; returns the ids of
-- callbacks that no longer exist, and the set of ids dispatched.
local function dispatch_callbacks(prefix, joined, active_ttl, fields)
  local missing, dispatched = {}, {}
  for _, id in ipairs(ids_of(joined)) do
    local key = signature_key(prefix, id)
    -- pcall: a key of another type counts as missing, without a TYPE call per callback
    local ok, task = pcall(redis.call, 'HGET', key, F_TASK)
    if ok and task then
      redis.call('XADD', queue_key(prefix, task), '*', E_SIGNATURE_ID, id, unpack(fields))
      redis.call('PEXPIRE', key, active_ttl)
      dispatched[id] = true
    else
      table.insert(missing, id)
    end
  end
  return missing, dispatched
end

-- Runs one item of a batch so that its failure (a corrupt key, a wrong type) fails only that item (rule 21).
local function guarded(fn, ...)
  local ok, reply = pcall(fn, ...)
  if ok then return reply end
  if type(reply) == 'table' and reply.err then return {-1, reply.err} end
  return {-1, tostring(reply)}
end

-- ---- lifecycle (contract §5) ----

local function is_paused(status) return status == SUSPENDED or status == INTERRUPTED end
local function is_finished(status) return status == DONE or status == FAILED or status == CANCELED end

-- No expiry for a signature and the callbacks it can fire while something waits on it for resume (rule 19).
local function persist_with_callbacks(prefix, signature, success_ids, error_ids)
  redis.call('PERSIST', signature)
  for _, joined in ipairs({success_ids, error_ids}) do
    for _, id in ipairs(ids_of(joined)) do pcall(redis.call, 'PERSIST', signature_key(prefix, id)) end
  end
end

-- Saves a run (the flat field list of its stream entry) on a paused signature, for resume to queue again
-- (rule 24); the last status becomes Active.
local function park(prefix, signature, run, success_ids, error_ids)
  local packed = redis.call('HGET', signature, F_PARKED)
  local runs = packed and cmsgpack.unpack(packed) or {}
  table.insert(runs, run)
  redis.call('HSET', signature, F_PARKED, cmsgpack.pack(runs), F_PARKED_COUNT, tostring(#runs), F_LAST_STATUS, ACTIVE)
  persist_with_callbacks(prefix, signature, success_ids, error_ids)
end

-- A body finished while its signature was paused: the first outcome is kept for resume to apply.
local function save_outcome(prefix, signature, kind, payload, error_text, failure_kind, success_ids, error_ids)
  if redis.call('HSETNX', signature, F_SAVED, kind) == 1 then
    if kind == SAVED_FAILED then
      redis.call('HSET', signature, F_SAVED_PAYLOAD, payload, F_ERROR, error_text, F_FAILURE_KIND, failure_kind)
    else
      redis.call('HSET', signature, F_SAVED_PAYLOAD, payload)
    end
  end
  redis.call('HDEL', signature, F_RUNNING_ENTRY)
  persist_with_callbacks(prefix, signature, success_ids, error_ids)
end

-- Done, Failed or Canceled: kept for the done TTL (at least a minute when awaited, so the waiter can read it),
-- and the waiters told.
local function finished(prefix, signature, id, done_ttl, awaited)
  if awaited then
    redis.call('PUBLISH', prefix .. FINISHED_CHANNEL_PART, id)
    done_ttl = math.max(done_ttl, tonumber(AWAITED_MINIMUM_MS))
  end
  release(signature, done_ttl)
end

-- Makes a signature Done (failure nil: payload is the result) or Failed (failure = {id, task, error, kind}:
-- payload is the failed input), dispatches that outcome's callbacks once and releases the others (rules 6-8).
-- Returns the ids of callbacks that no longer exist.
local function finish(prefix, signature, id, status, success_ids, error_ids, awaited, done_ttl, active_ttl, now, payload, failure)
  local missing, dispatched
  -- With a done TTL of 0 the hash is deleted: recording the final state would be wasted work, unless awaited.
  local record = done_ttl ~= 0 or awaited
  if failure then
    if record then
      redis.call('HSET', signature, F_STATUS, FAILED, F_LAST_STATUS, status, F_FINISHED, now, F_ERROR, failure[3], F_FAILURE_KIND, failure[4])
    end
    missing, dispatched = dispatch_callbacks(prefix, error_ids, active_ttl, {E_KIND, KIND_ERROR_INPUT, E_PAYLOAD, payload,
      E_FAILURE_SIGNATURE_ID, failure[1], E_FAILURE_TASK_NAME, failure[2], E_FAILURE_ERROR, failure[3], E_FAILURE_KIND, failure[4]})
    release_tree(prefix, success_ids, done_ttl, dispatched)
  else
    if awaited then
      redis.call('HSET', signature, F_STATUS, DONE, F_LAST_STATUS, status, F_FINISHED, now, F_RESULT, payload)
    elseif record then
      redis.call('HSET', signature, F_STATUS, DONE, F_LAST_STATUS, status, F_FINISHED, now)
    end
    missing, dispatched = dispatch_callbacks(prefix, success_ids, active_ttl, {E_KIND, KIND_RESULT, E_PAYLOAD, payload})
    release_tree(prefix, error_ids, done_ttl, dispatched)
  end
  finished(prefix, signature, id, done_ttl, awaited)
  return missing
end
