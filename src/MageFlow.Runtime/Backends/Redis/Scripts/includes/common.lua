-- Helpers every script may use; the constants above them (statuses, kinds, key parts, field names) are
-- generated from the C# definitions (RedisScript.Prelude), never spelled out in the scripts.

-- Every function starts here (RedisScript wraps each one). On a Redis Cluster, while the store's slot migrates to
-- another node, a key a script only learns while running (a callback, a queue) may already have moved, and Redis
-- aborts the script at that key, after the writes before it: half a transition. Touching a key that never exists,
-- first, makes Redis abort the script before any write for as long as the slot migrates ("non local key"); the
-- client tries again after the move. Elsewhere it costs one EXISTS per call.
local function require_stable_slot(keys)
  local first = keys[1]
  if first then redis.call('EXISTS', (string.match(first, '^{[^}]*}') or '') .. ':never') end
end

local function queue_key(prefix, task) return prefix .. QUEUE_KEY_PART .. task end

-- ---- partitions (docs/redis-v2-design.md section 3) ----
-- A store is split into partitions, each a hash tag: partition 0 is the store's own tag `{prefix}`, partition k
-- `{prefix#suffix}`. A signature id names its partition (`suffix.random`, or no dot for partition 0), so any id maps
-- to its key without a lookup. A script touches one partition only: what it must do to a signature of another one
-- goes to its partition's outbox as a message, in the same atomic step, and a forwarder applies it there (apply.lua).
-- ctx: {base = the store's tag, open = its tag without the closing brace plus '#', prefix = this partition's tag,
-- active = active TTL ms, done = done TTL ms (0 deletes), now = unix ms, trace = traceparent or nil}.

local function tag_of(key) return string.sub(key, 1, string.find(key, '}', 1, true)) end

local function context(base, key, active, done, now, trace)
  return {base = base, open = string.sub(base, 1, -2) .. PARTITION_SEPARATOR, prefix = tag_of(key), active = active, done = done,
    now = now, trace = (trace and trace ~= '') and trace or nil}
end

-- The key of a signature of this script's partition; nil when it lives in another one.
local function here(ctx, id)
  local dot = string.find(id, '.', 1, true)
  if dot then
    if ctx.open .. string.sub(id, 1, dot - 1) .. '}' ~= ctx.prefix then return nil end
  elseif ctx.base ~= ctx.prefix then
    return nil
  end
  return ctx.prefix .. SIGNATURE_KEY_PART .. id
end

-- The id of a signature key of this partition.
local function id_of(ctx, key) return string.sub(key, #ctx.prefix + #SIGNATURE_KEY_PART + 1) end

-- Asks the partition of signature `to` to apply `op` with `args` (a list without nils), through this partition's
-- outbox: the message exists if and only if this transition happened.
local function send(ctx, to, op, args)
  local fields = {O_OP, op, O_TARGET, to, O_ARGS, cmsgpack.pack(args), O_ACTIVE, ctx.active or '', O_DONE, ctx.done or ''}
  if ctx.trace then fields[#fields + 1] = E_TRACE_PARENT; fields[#fields + 1] = ctx.trace end
  redis.call('XADD', ctx.prefix .. OUTBOX_KEY_PART, '*', unpack(fields))
end

-- A comma-joined callback list names each callback by its id, followed by '=' and its task when that was known at
-- signing (a plain task: a finish queues it without reading it). ONE_ID matches one id, skipping its task.
local ONE_ID = '([^,=]+)[^,]*'

-- The ids of a comma-joined list (callbacks, a chain's steps), each once, in order.
local function ids_of(joined)
  local ids, seen = {}, {}
  if joined then
    for id in string.gmatch(joined, ONE_ID) do
      if not seen[id] then seen[id] = true; table.insert(ids, id) end
    end
  end
  return ids
end

-- Acknowledges an entry; returns 0 when it was no longer pending (another worker already finished with it). The
-- entry stays in the stream until the worker's trim (trim_queues.lua) removes everything acknowledged at once:
-- an XDEL per entry cost more than the rest of a completion.
local function acknowledge(stream, group, entry)
  return redis.call('XACK', stream, group, entry)
end

-- Where what a queue's consumer group has not finished begins: the oldest pending entry, else the id just past the
-- last one delivered (nothing pending and nothing undelivered is ever below it). nil when the stream or the group
-- does not exist. trim_queues removes what lies below it; oldest_unacknowledged reports the first entry at or above it.
local function unfinished_bound(stream, group)
  -- pcall: a queue without the group (or not a stream) has no bound
  local ok, pending = pcall(redis.call, 'XPENDING', stream, group)
  if not ok then return nil end
  if pending[2] then return pending[2] end
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local name, last
    for i = 1, #info, 2 do
      if info[i] == 'name' then name = info[i + 1] elseif info[i] == 'last-delivered-id' then last = info[i + 1] end
    end
    if name == group then
      local ms, seq = string.match(last, '^(%d+)%-(%d+)$')
      return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
    end
  end
  return nil
end

-- ---- signature records (docs/redis-v2-design.md section 14) ----
-- A signature is one string value: a MessagePack map of its fields (the F_* names; values are strings), read and
-- written whole: one GET and one SET per change, SET ... PX writing a record and its TTL in one command, and signing
-- one atomic SET. (Unpacking and packing the whole record costs about what the hash commands it replaced did.)

-- The record at `key`, or nil when there is none; raises when the key holds anything else.
local function read_record(key)
  local packed = redis.call('GET', key)
  if not packed then return nil end
  local ok, record = pcall(cmsgpack.unpack, packed)
  if not ok or type(record) ~= 'table' then error('the value at ' .. key .. ' is not a MageFlow signature record') end
  return record
end

-- read_record, with a key that holds anything else read as missing (and left alone).
local function find_record(key)
  local ok, record = pcall(read_record, key)
  if ok then return record end
  return nil
end

-- Writes a record: expiring in `ttl` ms, or keeping the key's expiry when ttl is nil.
local function write_record(key, record, ttl)
  if ttl then redis.call('SET', key, cmsgpack.pack(record), 'PX', ttl)
  else redis.call('SET', key, cmsgpack.pack(record), 'KEEPTTL') end
end

-- What HSET and HDEL do to a hash: the fields of `set` (name, value pairs) set, the names of `unset` removed, the
-- expiry kept. Returns the record as written.
local function change_record(key, set, unset)
  local record = read_record(key) or {}
  for i = 1, #set, 2 do record[set[i]] = set[i + 1] end
  if unset then for i = 1, #unset do record[unset[i]] = nil end end
  write_record(key, record)
  return record
end

-- Keeps a signature and the callbacks it can still fire for ttl ms from now (rule 19).
-- On the hot path (every start): no tables, and an id listed twice is simply kept alive twice.
local function keep_ids(ctx, joined, ttl)
  if not joined then return end
  for id in string.gmatch(joined, ONE_ID) do
    local key = here(ctx, id)
    if key then redis.call('PEXPIRE', key, ttl) else send(ctx, id, OP_KEEP, {ttl}) end
  end
end

local function keep_with_callbacks(ctx, signature, ttl, record)
  redis.call('PEXPIRE', signature, ttl)
  keep_ids(ctx, record[F_SUCCESS_IDS], ttl)
  keep_ids(ctx, record[F_ERROR_IDS], ttl)
end

-- Finished: kept for the done TTL, or deleted at once when it is 0.
local function release(key, done_ttl)
  if done_ttl == 0 then redis.call('DEL', key) else redis.call('PEXPIRE', key, done_ttl) end
end

-- Releases callbacks that can never fire now and every callback below them; `spare` holds ids not to touch
-- (the ones just dispatched).
local function release_tree(ctx, joined, done_ttl, spare)
  if not joined or joined == '' then return end
  local seen, stack = {}, ids_of(joined)
  for id in pairs(spare) do seen[id] = true end
  while #stack > 0 do
    local id = table.remove(stack)
    if not seen[id] then
      seen[id] = true
      local key = here(ctx, id)
      if not key then
        send(ctx, id, OP_RELEASE, {done_ttl}) -- its partition releases it and what is below it
      else
        -- a key of another type (not MageFlow's) is left alone
        local children = find_record(key)
        if children then
          for _, joined_children in ipairs({children[F_SUCCESS_IDS] or false, children[F_ERROR_IDS] or false}) do
            for _, child in ipairs(ids_of(joined_children or nil)) do table.insert(stack, child) end
          end
          release(key, done_ttl)
        end
      end
    end
  end
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
local function persist_with_callbacks(ctx, signature, record)
  redis.call('PERSIST', signature)
  for _, joined in ipairs({record[F_SUCCESS_IDS] or false, record[F_ERROR_IDS] or false}) do
    for _, id in ipairs(ids_of(joined or nil)) do
      local key = here(ctx, id)
      if key then pcall(redis.call, 'PERSIST', key) else send(ctx, id, OP_PERSIST, {}) end
    end
  end
end

-- Saves a run (the flat field list of its stream entry) on a paused signature (its record as read), for resume to
-- queue again (rule 24); the last status becomes Active.
local function park(ctx, signature, record, run)
  local runs = record[F_PARKED] and cmsgpack.unpack(record[F_PARKED]) or {}
  table.insert(runs, run)
  record[F_PARKED], record[F_PARKED_COUNT], record[F_LAST_STATUS] = cmsgpack.pack(runs), tostring(#runs), ACTIVE
  write_record(signature, record)
  persist_with_callbacks(ctx, signature, record)
end

-- A body finished while its signature (its record as read) was paused: the first outcome is kept for resume to apply.
local function save_outcome(ctx, signature, record, kind, payload, error_text, failure_kind)
  if not record[F_SAVED] then
    record[F_SAVED], record[F_SAVED_PAYLOAD] = kind, payload
    if kind == SAVED_FAILED then record[F_ERROR], record[F_FAILURE_KIND] = error_text, failure_kind end
  end
  record[F_RUNNING_ENTRY] = nil
  write_record(signature, record)
  persist_with_callbacks(ctx, signature, record)
end

-- ---- dispatching any signature, and chains and swarms (rules 27-30) ----

local STATUS_NAMES = {[PENDING] = 'Pending', [ACTIVE] = 'Active', [DONE] = 'Done', [FAILED] = 'Failed',
  [SUSPENDED] = 'Suspended', [INTERRUPTED] = 'Interrupted', [CANCELED] = 'Canceled'}

local function workflow_key(prefix, id, part) return prefix .. WORKFLOW_KEY_PART .. id .. ':' .. part end
local SWARM_LISTS = {'i', 'w', 'r', 'o'} -- items in order, waiting for RunAsync, ready to run, outcomes

-- A flat field list with `name` set to `value` (removed when value is nil or empty).
local function with_field(fields, name, value)
  local out = {}
  for i = 1, #fields, 2 do
    if fields[i] ~= name then table.insert(out, fields[i]); table.insert(out, fields[i + 1]) end
  end
  if value and value ~= '' then table.insert(out, name); table.insert(out, value) end
  return out
end

local function field_of(fields, name)
  for i = 1, #fields, 2 do if fields[i] == name then return fields[i + 1] end end
  return nil
end

-- A container's bound kwargs as one JSON object (values are stored as JSON), or nil when it has none.
local function kwargs_json(record)
  local parts = {}
  for name, value in pairs(record) do
    if string.sub(name, 1, #F_KWARG_PREFIX) == F_KWARG_PREFIX then
      table.insert(parts, cjson.encode(string.sub(name, #F_KWARG_PREFIX + 1)) .. ':' .. value)
    end
  end
  if #parts == 0 then return nil end
  return '{' .. table.concat(parts, ',') .. '}'
end

local function release_swarm_lists(prefix, id, done_ttl)
  for _, part in ipairs(SWARM_LISTS) do release(workflow_key(prefix, id, part), done_ttl) end
end

-- Done, Failed or Canceled (the record as changed): written with the done TTL (at least a minute when awaited, so
-- the waiter can read it), or deleted when it is 0, and the waiters told.
local function finished(ctx, signature, record, id, done_ttl)
  local awaited = record[F_AWAITED] ~= nil
  if awaited then
    redis.call('PUBLISH', ctx.base .. FINISHED_CHANNEL_PART, id)
    done_ttl = math.max(done_ttl, tonumber(AWAITED_MINIMUM_MS))
  end
  if done_ttl == 0 then redis.call('DEL', signature) else write_record(signature, record, done_ttl) end
  if record[F_KIND] == SIGNATURE_SWARM then release_swarm_lists(ctx.prefix, id, done_ttl) end
end

local dispatch_known, child_finished, advance_swarm

-- Queues a run of task `task` on signature `id` with the entry fields `fields`.
local function queue_run(ctx, task, id, fields)
  -- ctx.trace: the span that made this transition (the finished run, or the producer): the queued run's parent
  if ctx.trace then fields = with_field(fields, E_TRACE_PARENT, ctx.trace) end
  redis.call('XADD', queue_key(ctx.prefix, task), '*', E_SIGNATURE_ID, id, unpack(fields))
end

-- An item of a swarm that failed (StopAfterFailures), not started yet: it never runs.
local function cancel_waiting(ctx, key)
  local record = find_record(key)
  if record and record[F_STATUS] and not is_finished(record[F_STATUS]) then
    record[F_STATUS], record[F_LAST_STATUS], record[F_FINISHED] = CANCELED, record[F_STATUS], ctx.now
    if ctx.done == 0 then redis.call('DEL', key) else write_record(key, record, ctx.done) end
  end
end

-- Queues one run of each callback (once each, rule 22): a task's run, or the start of a chain or swarm. A
-- callback whose return member is SwarmResults gets `rs_fields` when given. A callback listed with its task (ONE_ID)
-- is queued without reading it: its keep-alive tells whether it still exists. Returns the ids of callbacks that no
-- longer exist, and the set of ids handled (dispatched or missing): release_tree must not touch them.
local function dispatch_callbacks(ctx, joined, fields, rs_fields)
  local missing, handled = {}, {}
  if not joined then return missing, handled end
  for id, task in string.gmatch(joined, '([^,=]+)=?([^,]*)') do
    if not handled[id] then
      handled[id] = true
      local key = here(ctx, id)
      if not key then
        -- its partition dispatches it, and reports it there when it no longer exists
        send(ctx, id, OP_DISPATCH, {fields, rs_fields or false})
      elseif task ~= '' then
        if redis.call('PEXPIRE', key, ctx.active) == 1 then queue_run(ctx, task, id, fields) else missing[#missing + 1] = id end
      else
        -- a key of another type counts as missing
        local callback = find_record(key)
        if callback and callback[F_TASK] then
          dispatch_known(ctx, key, id, callback, (rs_fields and callback[F_RECEIVES_SWARM]) and rs_fields or fields)
        else
          missing[#missing + 1] = id
        end
      end
    end
  end
  return missing, handled
end

-- Makes a signature (its record as read) Done (failure nil: payload is the result) or Failed (failure = {id, task,
-- error, kind}: payload is the failed input), dispatches that outcome's callbacks once and releases the others
-- (rules 6-8); then its chain or swarm takes the outcome in the same step. Returns the ids of callbacks that no
-- longer exist.
local function finish(ctx, signature, id, record, payload, failure, rs_payload)
  local status, success_ids, error_ids, parent = record[F_STATUS], record[F_SUCCESS_IDS], record[F_ERROR_IDS], record[F_PARENT]
  local missing, dispatched
  record[F_LAST_STATUS], record[F_FINISHED] = status, ctx.now
  if failure then
    record[F_STATUS], record[F_ERROR], record[F_FAILURE_KIND], record[F_FAILED_INPUT] = FAILED, failure[3], failure[4], payload
    finished(ctx, signature, record, id, ctx.done)
    missing, dispatched = dispatch_callbacks(ctx, error_ids, {E_KIND, KIND_ERROR_INPUT, E_PAYLOAD, payload,
      E_FAILURE_SIGNATURE_ID, failure[1], E_FAILURE_TASK_NAME, failure[2], E_FAILURE_ERROR, failure[3], E_FAILURE_KIND, failure[4]})
    release_tree(ctx, success_ids, ctx.done, dispatched)
  else
    record[F_STATUS] = DONE
    if record[F_AWAITED] then record[F_RESULT] = payload end
    finished(ctx, signature, record, id, ctx.done)
    missing, dispatched = dispatch_callbacks(ctx, success_ids, {E_KIND, KIND_RESULT, E_PAYLOAD, payload},
      rs_payload and {E_KIND, KIND_RESULT, E_PAYLOAD, rs_payload} or nil)
    release_tree(ctx, error_ids, ctx.done, dispatched)
  end
  if parent then child_finished(ctx, parent, id, payload, failure) end
  return missing
end

-- Finishes a container (chain or swarm) found by key, unless it is gone or finished.
local function finish_container(ctx, key, id, payload, failure, rs_payload)
  local record = find_record(key)
  if not record or is_finished(record[F_STATUS]) then return end
  finish(ctx, key, id, record, payload, failure, rs_payload)
end

-- A container (its record as read) whose first run arrives: Active, or (paused) Active once resumed. Not written.
local function mark_running(record)
  local status = record[F_STATUS]
  if status == PENDING then record[F_STATUS], record[F_LAST_STATUS] = ACTIVE, PENDING
  elseif is_paused(status) then record[F_LAST_STATUS] = ACTIVE end
end

-- What a chain whose step no longer exists fails with: the base its step would have run on, and why.
local function missing_step(chain_id, index, step_id, fields)
  local base = field_of(fields, E_KIND) == KIND_MESSAGE and field_of(fields, E_PAYLOAD) or '{}'
  return base, {chain_id, CHAIN_TASK, 'Chain ' .. chain_id .. ': its step ' .. index .. ', signature ' .. step_id
    .. ', no longer exists (expired or deleted).', FAILURE_INVALID_INPUT}
end

-- Rule 27: dispatches step `index` of a chain (its record as read) with the chain's kwargs as call-time kwargs; a
-- step that no longer exists fails the chain.
local function dispatch_step(ctx, chain_key, chain_id, chain, index, fields)
  local step_id = ids_of(chain[F_CHILDREN])[index]
  local step_key = here(ctx, step_id)
  redis.call('PEXPIRE', chain_key, ctx.active)
  fields = with_field(fields, E_CONTAINER_KWARGS, kwargs_json(chain))
  if not step_key then
    send(ctx, step_id, OP_STEP, {chain_id, index, fields})
    return
  end
  local step = find_record(step_key)
  if not (step and step[F_TASK]) then
    local base, failure = missing_step(chain_id, index, step_id, fields)
    finish_container(ctx, chain_key, chain_id, base, failure)
    return
  end
  dispatch_known(ctx, step_key, step_id, step, fields)
end

local function start_chain(ctx, key, id, chain, fields)
  mark_running(chain)
  write_record(key, chain)
  dispatch_step(ctx, key, id, chain, 1, fields)
end

-- Rule 28: the swarm's message becomes every item's base; items added so far may run. A swarm that is an item
-- of another swarm takes its own message, or the outer swarm's when it has none.
local function start_swarm(ctx, key, id, swarm, fields)
  if swarm[F_SWARM_STARTED] then return end -- started once; a second run changes nothing
  mark_running(swarm)
  local payload = field_of(fields, E_PAYLOAD) or '{}'
  local message = payload
  if field_of(fields, E_KIND) == KIND_RESULT then message = '{' .. cjson.encode(swarm[F_RETURN_FIELD]) .. ':' .. payload .. '}' end
  local outer = field_of(fields, E_OUTER_BASE)
  if outer and message == '{}' then message = outer end
  swarm[F_SWARM_STARTED], swarm[F_SWARM_MESSAGE] = '1', message
  local waiting, ready = workflow_key(ctx.prefix, id, 'w'), workflow_key(ctx.prefix, id, 'r')
  local entries = redis.call('LRANGE', waiting, 0, -1)
  if #entries > 0 then
    for from = 1, #entries, 500 do redis.call('RPUSH', ready, unpack(entries, from, math.min(#entries, from + 499))) end
    redis.call('DEL', waiting)
    redis.call('PEXPIRE', ready, ctx.active)
  end
  advance_swarm(ctx, key, id, swarm)
end

-- Dispatches a run of a signature (its record as read): queue a task's run, start a container.
dispatch_known = function(ctx, key, id, record, fields)
  local kind = record[F_KIND]
  if kind == SIGNATURE_CHAIN then start_chain(ctx, key, id, record, fields)
  elseif kind == SIGNATURE_SWARM then start_swarm(ctx, key, id, record, fields)
  else
    queue_run(ctx, record[F_TASK], id, fields)
    redis.call('PEXPIRE', key, ctx.active)
  end
end

-- Records an item's outcome once, in completion order, on the swarm's record as the caller holds it (not written);
-- at StopAfterFailures the swarm fails at once: items not started are canceled, running ones finish (rule 29).
-- Returns true when the swarm finished (its finish wrote it).
local function record_item(ctx, key, id, swarm, item_id, result, error_text)
  local outcomes = workflow_key(ctx.prefix, id, 'o')
  redis.call('RPUSH', outcomes, cmsgpack.pack(item_id, result and 1 or 0, result or error_text))
  redis.call('PEXPIRE', outcomes, ctx.active)
  local counter = result and F_SWARM_SUCCEEDED or F_SWARM_FAILED
  local count = (tonumber(swarm[counter]) or 0) + 1
  swarm[counter] = tostring(count)
  if result then return false end
  local stop_after = tonumber(swarm[F_SWARM_STOP_AFTER] or '')
  if not stop_after or count < stop_after then return false end
  for _, part in ipairs({'w', 'r'}) do
    local list = workflow_key(ctx.prefix, id, part)
    for _, entry in ipairs(redis.call('LRANGE', list, 0, -1)) do
      local waiting_id = cmsgpack.unpack(entry)
      local waiting_key = here(ctx, waiting_id)
      if waiting_key then cancel_waiting(ctx, waiting_key) else send(ctx, waiting_id, OP_CANCEL_WAITING, {}) end
    end
    redis.call('DEL', list)
  end
  finish(ctx, key, id, swarm, swarm[F_SWARM_MESSAGE] or '{}', {id, SWARM_TASK, 'Swarm ' .. id .. ': ' .. count .. ' items failed (SwarmOptions.StopAfterFailures = '
    .. stop_after .. '); the last one: ' .. tostring(error_text), '0'})
  return true
end

-- Why an item (its record, or nil when it is missing or not a record) cannot start, or nil.
local function unstartable_item(item)
  if not (item and item[F_TASK]) then return 'it no longer exists (expired or deleted)' end
  if is_finished(item[F_STATUS]) then return 'it was ' .. STATUS_NAMES[item[F_STATUS]] .. ' before the swarm started it' end
  return nil
end

local function item_not_run(swarm_id, item_id, why) return 'Item ' .. item_id .. ' of swarm ' .. swarm_id .. ' did not run: ' .. why .. '.' end

-- Rule 30: dispatches ready items in order while fewer than MaxConcurrency run; one step, so no item is started
-- twice or lost between taken and dispatched. An item that can no longer start counts as a failed item. Changes the
-- swarm's record as the caller holds it; returns whether the swarm finished, and the record as it now is.
local function fill(ctx, key, id, swarm)
  if swarm[F_STATUS] ~= PENDING and swarm[F_STATUS] ~= ACTIVE then return false, swarm end
  local limit, running = tonumber(swarm[F_SWARM_MAX_CONCURRENCY]), tonumber(swarm[F_SWARM_RUNNING] or '0')
  local ready = workflow_key(ctx.prefix, id, 'r')
  local kwargs = nil
  while running < limit do
    local entry = redis.call('LPOP', ready)
    if not entry then break end
    local item_id, message = cmsgpack.unpack(entry)
    local item_key = here(ctx, item_id)
    local item = item_key and find_record(item_key)
    local why = item_key and unstartable_item(item)
    if why then
      swarm[F_SWARM_RUNNING] = tostring(running)
      if record_item(ctx, key, id, swarm, item_id, nil, item_not_run(id, item_id, why)) then return true, swarm end
    else
      running = running + 1
      kwargs = kwargs or kwargs_json(swarm) or ''
      local fields = {E_KIND, KIND_MESSAGE, E_PAYLOAD, message ~= '' and message or '{}'}
      fields = with_field(with_field(fields, E_CONTAINER_KWARGS, kwargs), E_OUTER_BASE, swarm[F_SWARM_MESSAGE])
      if not item_key then
        -- counted as running: its partition dispatches it, or reports back that it cannot run
        send(ctx, item_id, OP_ITEM, {id, fields})
      elseif item[F_KIND] then
        -- A chain or swarm starts in this step and may finish in it, reaching this swarm (child_finished): it must
        -- find the swarm as it is now, and this step goes on with what that changed.
        swarm[F_SWARM_RUNNING] = tostring(running)
        write_record(key, swarm)
        dispatch_known(ctx, item_key, item_id, item, fields)
        swarm = find_record(key)
        if not swarm or (swarm[F_STATUS] ~= PENDING and swarm[F_STATUS] ~= ACTIVE) then return true, swarm end
        running = tonumber(swarm[F_SWARM_RUNNING] or '0')
      else
        dispatch_known(ctx, item_key, item_id, item, fields)
      end
    end
  end
  swarm[F_SWARM_RUNNING] = tostring(running)
  return false, swarm
end

-- Rule 29: closed, every item added has finished, nothing waits: Done, the success callbacks get the results of
-- the items that succeeded (or, for a SwarmResults member, every outcome), in completion order.
-- Takes the swarm's record as the caller holds it; returns true when the swarm finished (its finish wrote it).
local function complete_swarm_if_due(ctx, key, id, swarm)
  local status = swarm[F_STATUS]
  if (status ~= PENDING and status ~= ACTIVE) or not swarm[F_SWARM_CLOSED] or tonumber(swarm[F_SWARM_RUNNING] or '0') > 0 then return false end
  -- A swarm that is a chain step or a swarm item completes once its container started it, never before.
  if swarm[F_PARENT] and not swarm[F_SWARM_STARTED] then return false end
  if redis.call('LLEN', workflow_key(ctx.prefix, id, 'r')) > 0 or redis.call('LLEN', workflow_key(ctx.prefix, id, 'w')) > 0 then return false end
  local outcomes = redis.call('LRANGE', workflow_key(ctx.prefix, id, 'o'), 0, -1)
  if #outcomes < tonumber(swarm[F_SWARM_ADDED] or '0') then return false end
  local results, items = {}, {}
  for _, entry in ipairs(outcomes) do
    local item_id, ok, value = cmsgpack.unpack(entry)
    if ok == 1 then
      table.insert(results, value)
      table.insert(items, '{"signatureId":' .. cjson.encode(item_id) .. ',"succeeded":true,"result":' .. value .. ',"error":null}')
    else
      -- no "result" at all: a value-type T reads its default instead of failing on null
      table.insert(items, '{"signatureId":' .. cjson.encode(item_id) .. ',"succeeded":false,"error":' .. cjson.encode(value) .. '}')
    end
  end
  if status == PENDING then swarm[F_STATUS], swarm[F_LAST_STATUS] = ACTIVE, PENDING end
  finish(ctx, key, id, swarm, '[' .. table.concat(results, ',') .. ']', nil, '{"items":[' .. table.concat(items, ',') .. ']}')
  return true
end

-- After a swarm's record changed (read once by the caller, changed in place): fills it, completes it when due, and
-- writes the record unless it finished (a finish writes it itself); a swarm that runs is kept for the active TTL.
advance_swarm = function(ctx, key, id, swarm)
  local finished_now
  finished_now, swarm = fill(ctx, key, id, swarm)
  if finished_now or complete_swarm_if_due(ctx, key, id, swarm) then return end
  local runs = swarm[F_STATUS] == PENDING or swarm[F_STATUS] == ACTIVE
  write_record(key, swarm, runs and ctx.active or nil)
end

-- A step or item finished, inside its own Done/Failed transition: its container moves on (rules 27, 29).
child_finished = function(ctx, parent_id, child_id, payload, failure)
  local key = here(ctx, parent_id)
  if not key then
    send(ctx, parent_id, OP_CHILD_FINISHED, {child_id, payload, failure or false})
    return
  end
  local parent = find_record(key)
  if not (parent and parent[F_STATUS]) or is_finished(parent[F_STATUS]) then return end
  if parent[F_KIND] == SIGNATURE_CHAIN then
    local steps = ids_of(parent[F_CHILDREN])
    local index = 0
    for i, step in ipairs(steps) do if step == child_id then index = i end end
    if failure then
      -- Rule 27: the chain's error callbacks get the failed step's input; later steps never run.
      local later = {}
      for i = index + 1, #steps do table.insert(later, steps[i]) end
      release_tree(ctx, table.concat(later, ','), ctx.done, {})
      finish_container(ctx, key, parent_id, payload, failure)
    elseif index == #steps then
      finish_container(ctx, key, parent_id, payload, nil)
    else
      dispatch_step(ctx, key, parent_id, parent, index + 1, {E_KIND, KIND_RESULT, E_PAYLOAD, payload})
    end
    return
  end
  parent[F_SWARM_RUNNING] = tostring(math.max(0, (tonumber(parent[F_SWARM_RUNNING]) or 0) - 1))
  local result, error_text = nil, nil
  if failure then error_text = failure[3] else result = payload end
  if record_item(ctx, key, parent_id, parent, child_id, result, error_text) then return end
  advance_swarm(ctx, key, parent_id, parent)
end

-- ---- steps and items given to a container (create_container.lua, swarm_add.lua, claim_children.lua) ----

-- Why a signature cannot become a step (`as_step`) or an item of `container`, or nil: {reply kind, text}.
local function unclaimable(key, id, container, as_step)
  local child = find_record(key)
  if not (child and child[F_TASK]) then return {'item-missing', 'step ' .. id .. ' does not exist'} end
  local parent = child[F_PARENT]
  if parent or id == container then return {'item-taken', 'step ' .. child[F_TASK] .. '#' .. id .. ' is already a step or item of ' .. tostring(parent or container)} end
  if as_step and is_finished(child[F_STATUS]) then
    return {'item-taken', 'step ' .. child[F_TASK] .. '#' .. id .. ' is ' .. STATUS_NAMES[child[F_STATUS]] .. ', and a finished signature never runs again'}
  end
  return nil
end

-- ---- lifecycle (contract section 5, rules 24-26; lifecycle.lua) ----

-- Applies a lifecycle action (suspend, interrupt, resume, cancel) to one signature and, for a chain or swarm, to every
-- unfinished step or item: here, or through the outbox in their partitions. Returns the status before and after (nil
-- when the signature does not exist), its parent and its task name.
local function change_lifecycle(ctx, action, signature, id)
  local record = find_record(signature)
  if not (record and record[F_STATUS]) then return nil end
  local status, last, task, kind, parent = record[F_STATUS], record[F_LAST_STATUS], record[F_TASK], record[F_KIND], record[F_PARENT]
  local saved = record[F_SAVED]
  if is_finished(status) then return status, status end

  local function drop_parked()
    record[F_PARKED], record[F_PARKED_COUNT], record[F_SAVED], record[F_SAVED_PAYLOAD] = nil, nil, nil, nil
  end

  if action == 'suspend' then
    if status == PENDING or status == ACTIVE then
      record[F_STATUS], record[F_LAST_STATUS] = SUSPENDED, status
      write_record(signature, record)
    end
  elseif action == 'interrupt' then
    if status ~= INTERRUPTED then
      record[F_STATUS], record[F_LAST_STATUS] = INTERRUPTED, is_paused(status) and last or status
      write_record(signature, record)
      redis.call('PUBLISH', ctx.base .. STOP_CHANNEL_PART, id)
    end
  elseif action == 'resume' then
    if is_paused(status) then
      -- Expiring again from now, like any signature that just had activity.
      keep_with_callbacks(ctx, signature, ctx.active, record)
      if saved then
        local failure = nil
        if saved == SAVED_FAILED then failure = {id, task, record[F_ERROR], record[F_FAILURE_KIND]} end
        local payload = record[F_SAVED_PAYLOAD]
        drop_parked()
        finish(ctx, signature, id, record, payload, failure)
      elseif record[F_PARKED] then
        local runs = cmsgpack.unpack(record[F_PARKED])
        drop_parked()
        record[F_STATUS], record[F_LAST_STATUS] = PENDING, status
        write_record(signature, record)
        for _, run in ipairs(runs) do redis.call('XADD', queue_key(ctx.prefix, task), '*', unpack(run)) end
      else
        record[F_STATUS], record[F_LAST_STATUS] = last, status
        write_record(signature, record)
      end
    end
  else -- cancel
    drop_parked()
    record[F_STATUS], record[F_LAST_STATUS], record[F_FINISHED] = CANCELED, status, ctx.now
    finished(ctx, signature, record, id, ctx.done)
    release_tree(ctx, record[F_SUCCESS_IDS], ctx.done, {})
    release_tree(ctx, record[F_ERROR_IDS], ctx.done, {})
    redis.call('PUBLISH', ctx.base .. STOP_CHANNEL_PART, id)
  end

  local children = {}
  if kind == SIGNATURE_CHAIN then children = ids_of(record[F_CHILDREN])
  elseif kind == SIGNATURE_SWARM then children = redis.call('LRANGE', workflow_key(ctx.prefix, id, 'i'), 0, -1) end
  for _, child in ipairs(children) do
    local child_key = here(ctx, child)
    if child_key then change_lifecycle(ctx, action, child_key, child) else send(ctx, child, OP_LIFECYCLE, {action}) end
  end
  if kind == SIGNATURE_SWARM and action == 'resume' then
    -- read again: resuming its items may have finished some, which this swarm counted
    local swarm = find_record(signature)
    if swarm then advance_swarm(ctx, signature, id, swarm) end
  end

  -- With a done TTL of 0 a finished signature is gone: its status is what this step set.
  local after = find_record(signature)
  after = after and after[F_STATUS]
  if not after then after = (action == 'cancel') and CANCELED or ((saved == SAVED_FAILED) and FAILED or DONE) end
  return status, after, parent, task
end

-- A signature canceled on its own: its chain fails, or its swarm counts a failed item (contract section 5).
local function canceled_child(ctx, parent, id, task)
  child_finished(ctx, parent, id, '{}', {id, task, 'Signature ' .. id .. ' was canceled.', '0'})
end

-- ---- start (rules 10, 12, 13, 18-20, 24): start.lua, and read_and_start.lua for the entries it reads ----

local START_NUMERIC_FIELDS = {F_STATUS, F_LAST_STATUS, F_ATTEMPTS, F_CREATED}
local START_TEXT_FIELDS = {F_TASK, F_MESSAGE_TYPE, F_RETURN_FIELD, F_STATUS}
local START_OPTIONAL_TEXT_FIELDS = {F_SUCCESS_IDS, F_ERROR_IDS, F_RUNNING_ENTRY}

-- Why a record cannot be read as a signature, or nil: a required field missing, a field that is not text, or a
-- number that is not one.
local function unreadable(at)
  for i = 1, #START_TEXT_FIELDS do
    if type(at[START_TEXT_FIELDS[i]]) ~= 'string' then return 'it lacks its task name, message type, return field or status' end
  end
  for i = 1, #START_OPTIONAL_TEXT_FIELDS do
    local name = START_OPTIONAL_TEXT_FIELDS[i]
    if at[name] and type(at[name]) ~= 'string' then return 'its field ' .. name .. ' is not text' end
  end
  for i = 1, #START_NUMERIC_FIELDS do
    local name = START_NUMERIC_FIELDS[i]
    if at[name] and not tonumber(at[name]) then
      return 'its field ' .. name .. ' is not a number'
    end
  end
  return nil
end

-- A record that cannot be read never runs, yet ends as every signature does: Failed, its error callbacks
-- queued once with an empty input and the failure, its entry acknowledged (rule 20).
local function fail_corrupt(ctx, group, signature, stream, entry, ttl, at, problem)
  acknowledge(stream, group, entry)
  local status = at[F_STATUS]
  if status == DONE or status == FAILED then return end
  at[F_STATUS], at[F_LAST_STATUS] = FAILED, status or PENDING
  write_record(signature, at)
  local id = id_of(ctx, signature)
  local task = type(at[F_TASK]) == 'string' and at[F_TASK] or string.sub(stream, #ctx.prefix + #QUEUE_KEY_PART + 1)
  local error_ids = type(at[F_ERROR_IDS]) == 'string' and at[F_ERROR_IDS] or nil
  dispatch_callbacks(context(ctx.base, signature, ttl, tonumber(ttl), ctx.now), error_ids, {E_KIND, KIND_ERROR_INPUT, E_PAYLOAD, '{}',
    E_FAILURE_SIGNATURE_ID, id, E_FAILURE_TASK_NAME, task,
    E_FAILURE_ERROR, "Task '" .. task .. "': the stored signature " .. id .. ' is corrupt (' .. problem .. '); it was not run.',
    E_FAILURE_KIND, FAILURE_INVALID_INPUT})
end

local KWARG_PREFIX_LENGTH = #F_KWARG_PREFIX

-- Starts the run of entry `entry` of `stream` on `signature` (a key of ctx's partition). Returns a list of strings:
-- {'0'} missing; {'1', stalls, attempts, task, return field, success ids, error ids, then each bound kwarg's field
-- (with its prefix) and JSON} started: what a run needs, no more; {'2', status} not runnable; {'3', problem}
-- corrupt; {'4', status} parked (Suspended or Interrupted: the run is saved on the signature for resume). The entry is
-- acknowledged unless started. stalls: how many times in a row this same entry was started and never finished
-- (take-overs). start_entry packs it into one cmsgpack value, read by StartReply in C#: one value for the client to
-- parse instead of one per string.
local function start_run(ctx, group, signature, stream, entry, ttl)
  -- A key of another type raises here, before any write, and start_entry reports it as corrupt.
  local at = read_record(signature)
  if not at then
    acknowledge(stream, group, entry)
    return {'0'}
  end
  -- The reply: seven fixed strings (filled in below, once known), then the bound kwargs, read before any write.
  local strings = {'1', '', '', '', '', '', ''}
  local problem = unreadable(at)
  for name, value in pairs(at) do
    if type(name) == 'string' and string.sub(name, 1, KWARG_PREFIX_LENGTH) == F_KWARG_PREFIX then
      if type(value) ~= 'string' then problem = problem or ('its field ' .. name .. ' is not text') end
      strings[#strings + 1] = name
      strings[#strings + 1] = value
    end
  end
  if problem then
    fail_corrupt(ctx, group, signature, stream, entry, ttl, at, problem)
    return {'3', problem}
  end
  local status = at[F_STATUS]
  if is_paused(status) then
    local run = redis.call('XRANGE', stream, entry, entry)
    if acknowledge(stream, group, entry) == 1 and #run > 0 then park(ctx, signature, at, run[1][2]) end
    return {'4', status}
  end
  if status ~= PENDING and status ~= ACTIVE then
    acknowledge(stream, group, entry)
    return {'2', status}
  end
  local attempts = (tonumber(at[F_ATTEMPTS]) or 0) + 1
  local stalls = 0
  if at[F_RUNNING_ENTRY] == entry then stalls = (tonumber(at[F_STALLS]) or 0) + 1 end
  if status == PENDING then at[F_STATUS], at[F_LAST_STATUS] = ACTIVE, PENDING end
  at[F_ATTEMPTS], at[F_RUNNING_ENTRY], at[F_STALLS], at[F_STARTED] = tostring(attempts), entry, tostring(stalls), ctx.now
  -- Written with the run's TTL: the signature's own keep-alive (rule 19) in the same command.
  write_record(signature, at, ttl)
  keep_ids(ctx, at[F_SUCCESS_IDS], ttl)
  keep_ids(ctx, at[F_ERROR_IDS], ttl)
  -- Numbers as integers: unreadable() let through anything tonumber reads.
  strings[2], strings[3], strings[4], strings[5] = string.format('%d', stalls), string.format('%d', attempts), at[F_TASK], at[F_RETURN_FIELD]
  strings[6], strings[7] = at[F_SUCCESS_IDS] or '', at[F_ERROR_IDS] or ''
  return strings
end

-- start_run, guarded and packed: a key that is not a record MageFlow wrote can never start, so its entry goes (corrupt).
local function start_entry(ctx, group, signature, stream, entry, ttl)
  local reply = guarded(start_run, ctx, group, signature, stream, entry, ttl)
  if reply[1] == -1 then
    acknowledge(stream, group, entry)
    reply = {'3', reply[2]}
  end
  return cmsgpack.pack(reply)
end

-- ---- taking runs (read_and_start.lua, and complete.lua with the slots its runs free) ----

local RUN_KINDS = {[KIND_MESSAGE] = true, [KIND_RESULT] = true, [KIND_ERROR_INPUT] = true}

-- New entries of `stream` for `consumer`, at most `count`. A queue that cannot be read (its group deleted, Redis
-- restarted empty, a key of another type) reads as empty, and the first such error goes to reply[2]: never raised,
-- since the runs started before it must reach the client (a NOGROUP makes the client create the group).
local function read_new(stream, group, consumer, count, reply)
  local ok, found = pcall(redis.call, 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
  if ok then return found and found[1][2] or {} end
  if reply[2] == '' then reply[2] = type(found) == 'table' and found.err or tostring(found) end
  return {}
end

-- The signature key of an entry the client reads as a run (a signature id of this partition, a known kind, a
-- payload), or nil.
local function runnable(ctx, fields)
  local signature_id, kind, payload
  for i = 1, #fields - 1, 2 do
    local name = fields[i]
    if name == E_SIGNATURE_ID then signature_id = fields[i + 1]
    elseif name == E_KIND then kind = fields[i + 1]
    elseif name == E_PAYLOAD then payload = true end
  end
  if not (signature_id and signature_id ~= '' and RUN_KINDS[kind] and payload) then return nil end
  return here(ctx, signature_id)
end

-- Takes up to `count` new entries from `queues` (keys of ctx's partition, in order) for `consumer`, and starts each
-- the client reads as a run (start_entry). Each queue is read on its own with what is left of the count: one
-- XREADGROUP over every queue would take up to the count from each (COUNT is per stream), and an entry read cannot
-- be handed back, so those past the count would wait, unstarted, for a read and a start of their own. Appends per
-- entry one cmsgpack array of strings to `reply`: {index in `queues`, entry id, its fields as one cmsgpack array (''
-- when its data was deleted), start_entry's packed reply ('' when not started)}. A queue's read error goes to reply[2].
local function take_runs(ctx, group, consumer, queues, count, ttl, reply)
  for q = 1, #queues do
    if count < 1 then return end
    local stream = queues[q]
    local entries = read_new(stream, group, consumer, count, reply)
    for i = 1, #entries do
      local entry, fields = entries[i][1], entries[i][2]
      local started, packed = '', ''
      if fields then
        packed = cmsgpack.pack(fields)
        local signature = runnable(ctx, fields)
        if signature then started = start_entry(ctx, group, signature, stream, entry, ttl) end
      end
      reply[#reply + 1] = cmsgpack.pack({tostring(q), entry, packed, started})
    end
    count = count - #entries
  end
end
