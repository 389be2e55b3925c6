-- Stores new signature hashes with their active TTL: one round trip for every signature created together.
-- Ids are 96 random bits, so each key is new: no DEL first. Fields go in slices, so a signature with many
-- kwargs stays below Lua's limit on unpacked arguments.
-- KEYS[i] signature hash i
-- ARGV, per signature in KEYS order: ttl in ms, n (number of field/value arguments), then those n arguments
-- Returns one reply per signature: 1 created, {-1, error} failed.
local SLICE = 500

local function create(key, ttl, first, last)
  for from = first, last, SLICE * 2 do
    redis.call('HSET', key, unpack(ARGV, from, math.min(last, from + SLICE * 2 - 1)))
  end
  redis.call('PEXPIRE', key, ttl)
  return 1
end

local replies, at = {}, 1
for i = 1, #KEYS do
  local ttl, n = ARGV[at], tonumber(ARGV[at + 1])
  replies[i] = guarded(create, KEYS[i], ttl, at + 2, at + 1 + n)
  at = at + 2 + n
end
return replies
