-- Start transition (rules 10, 12, 13, 18-20, 24) for a batch of entries: one round trip for all of them.
-- KEYS: for each entry i, KEYS[2i-1] signature key and KEYS[2i] stream of the entry
-- ARGV[1] consumer group, ARGV[2] the store's hash tag, ARGV[3] now (unix ms); for each entry i: ARGV[2i+2] entry id,
-- ARGV[2i+3] active TTL ms
-- Returns one reply per entry: start_run's (common.lua), packed into one value.
local group, base, now = ARGV[1], ARGV[2], ARGV[3]
-- Every entry of a batch is of one partition.
local ctx = KEYS[1] and context(base, KEYS[1], nil, nil, now)

local replies = {}
for i = 1, #KEYS / 2 do
  replies[i] = start_entry(ctx, group, KEYS[2 * i - 1], KEYS[2 * i], ARGV[2 * i + 2], ARGV[2 * i + 3])
end
return replies
