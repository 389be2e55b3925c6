-- Read and start (docs/redis-v2-design.md section 13): takes up to a count of new entries from the task queues of one
-- partition and starts each (start_run, common.lua) in the same step, so a worker under load needs one round trip
-- where a read and then a start took two. Never blocks: an idle worker reads with XREADGROUP BLOCK instead.
-- KEYS: the partition's task streams, in the order to read them (the client rotates it, so no queue always waits
-- behind another); then its outbox, when the store has several partitions.
-- ARGV[1] consumer group, ARGV[2] consumer, ARGV[3] the store's hash tag, ARGV[4] now (unix ms), ARGV[5] how many
-- entries at most (the worker's free run slots: a started entry must never wait for one), ARGV[6] active TTL ms,
-- ARGV[7] how many of KEYS are task streams, ARGV[8] how many outbox messages at most.
-- Each queue is read on its own with what is left of the count: one XREADGROUP over every queue would take up to the
-- count from each (COUNT is per stream), and an entry read cannot be handed back, so those past the count would wait,
-- unstarted, for a later read and a start of their own: the round trip this script saves.
-- Returns {outbox messages as XREADGROUP gives them ({id, fields} each), why a queue could not be read ('' when all
-- could: never raised, since the runs started before it must reach the client), then per task entry read one cmsgpack
-- array of strings {stream index in KEYS, entry id, its fields as one cmsgpack array ('' when its data was deleted),
-- start_entry's packed reply ('' when not started)}: one value per entry for the client to parse. Only an entry the
-- client reads as a run (a signature id of this partition, a known kind, a payload) is started; any other is returned
-- as read, for the client to handle as it handles what a plain read returns.
local group, consumer, base, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local left, queues, outbox_count = tonumber(ARGV[5]), tonumber(ARGV[7]), tonumber(ARGV[8])
local ctx = context(base, KEYS[1], nil, nil, now)
local KINDS = {[KIND_MESSAGE] = true, [KIND_RESULT] = true, [KIND_ERROR_INPUT] = true}
local reply = {{}, ''}

-- A queue that cannot be read (its group deleted, Redis restarted empty, a key of another type) is skipped and
-- reported: a NOGROUP makes the client create the group.
local function read(stream, count)
  local ok, found = pcall(redis.call, 'XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', stream, '>')
  if ok then return found and found[1][2] or {} end
  if reply[2] == '' then reply[2] = type(found) == 'table' and found.err or tostring(found) end
  return {}
end

-- The signature key of an entry the client reads as a run, or nil.
local function runnable(fields)
  local signature_id, kind, payload
  for i = 1, #fields - 1, 2 do
    local name = fields[i]
    if name == E_SIGNATURE_ID then signature_id = fields[i + 1]
    elseif name == E_KIND then kind = fields[i + 1]
    elseif name == E_PAYLOAD then payload = true end
  end
  if not (signature_id and signature_id ~= '' and KINDS[kind] and payload) then return nil end
  return here(ctx, signature_id)
end

if outbox_count > 0 and KEYS[queues + 1] then reply[1] = read(KEYS[queues + 1], outbox_count) end
for q = 1, queues do
  if left < 1 then break end
  local stream = KEYS[q]
  local entries = read(stream, left)
  for i = 1, #entries do
    local entry, fields = entries[i][1], entries[i][2]
    local started, packed = '', ''
    if fields then
      packed = cmsgpack.pack(fields)
      local signature = runnable(fields)
      if signature then started = start_entry(ctx, group, signature, stream, entry, ttl) end
    end
    reply[#reply + 1] = cmsgpack.pack({tostring(q), entry, packed, started})
  end
  left = left - #entries
end
return reply
