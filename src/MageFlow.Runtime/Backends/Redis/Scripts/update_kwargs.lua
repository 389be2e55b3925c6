-- Replaces named top-level kwargs (rule 5). Returns 0 when the signature is gone, -1 when the key is not a
-- signature hash, else 1.
-- KEYS[1] signature hash
-- ARGV name, json pairs (kwarg names without the kwarg field prefix)
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'none' then return 0 end
if kind ~= 'hash' then return -1 end
-- Names match case-insensitively (wire reads are case-insensitive): the new spelling replaces the old field.
local byLowerName = {}
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, #F_KWARG_PREFIX) == F_KWARG_PREFIX then byLowerName[string.lower(field)] = field end
end
for i = 1, #ARGV, 2 do
  local field = F_KWARG_PREFIX .. ARGV[i]
  local lower = string.lower(field)
  local old = byLowerName[lower]
  if old and old ~= field then redis.call('HDEL', KEYS[1], old) end
  redis.call('HSET', KEYS[1], field, ARGV[i + 1])
  byLowerName[lower] = field
end
return 1
