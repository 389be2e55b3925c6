-- Read and start (docs/redis-v2-design.md section 13): takes up to a count of new entries from the task queues of one
-- partition and starts each (take_runs, common.lua) in the same step, so a worker under load needs one round trip
-- where a read and then a start took two. Never blocks: an idle worker reads with XREADGROUP BLOCK instead.
-- KEYS: the partition's task streams, in the order to read them (the client rotates it, so no queue always waits
-- behind another); then its outbox, when the store has several partitions.
-- ARGV[1] consumer group, ARGV[2] consumer, ARGV[3] the store's hash tag, ARGV[4] now (unix ms), ARGV[5] how many
-- entries at most (the worker's free run slots: a started entry must never wait for one), ARGV[6] active TTL ms,
-- ARGV[7] how many of KEYS are task streams, ARGV[8] how many outbox messages at most.
-- Returns {outbox messages as XREADGROUP gives them ({id, fields} each), why a queue could not be read ('' when all
-- could), then take_runs' value per task entry read}.
local group, consumer, base, now, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local count, queue_count, outbox_count = tonumber(ARGV[5]), tonumber(ARGV[7]), tonumber(ARGV[8])
local ctx = context(base, KEYS[1], nil, nil, now)
local reply = {{}, ''}

if outbox_count > 0 and KEYS[queue_count + 1] then reply[1] = read_new(KEYS[queue_count + 1], group, consumer, outbox_count, reply) end
local queues = {}
for q = 1, queue_count do queues[q] = KEYS[q] end
take_runs(ctx, group, consumer, queues, count, ttl, reply)
return reply
