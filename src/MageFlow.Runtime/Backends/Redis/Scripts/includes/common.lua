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
