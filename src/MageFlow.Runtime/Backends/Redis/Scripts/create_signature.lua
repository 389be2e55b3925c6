-- Stores new signature hashes with their active TTL: one round trip for every signature created together.
-- Ids are 96 random bits, so each key is new: no DEL first.
-- KEYS[i] signature hash i
-- ARGV, per signature in KEYS order: ttl in ms, n (number of field/value arguments), then those n arguments
local at = 1
for i = 1, #KEYS do
  local ttl, n = ARGV[at], tonumber(ARGV[at + 1])
  redis.call('HSET', KEYS[i], unpack(ARGV, at + 2, at + 1 + n))
  redis.call('PEXPIRE', KEYS[i], ttl)
  at = at + 2 + n
end
return #KEYS
