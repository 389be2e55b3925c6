-- Stores a chain or a swarm (contract §6, §7), claiming a chain's steps in the same step: each must exist and be
-- no other container's step or item, and not finished; nothing is stored otherwise.
-- KEYS[1] the container's hash; KEYS[2..n+1] its steps' hashes, in order
-- ARGV[1] TTL ms, ARGV[2] the container's id, ARGV[3] n, ARGV[4..n+3] the step ids, then the container's fields and values
-- Returns {1} stored, or {0, problem}.
local n = tonumber(ARGV[3])
local seen = {}
for i = 1, n do
  local id = ARGV[3 + i]
  local ok, found = pcall(redis.call, 'HMGET', KEYS[1 + i], F_TASK, F_PARENT, F_STATUS)
  if not (ok and found[1]) then return {0, 'step ' .. id .. ' does not exist'} end
  if found[2] then return {0, 'step ' .. found[1] .. '#' .. id .. ' is already a step or item of ' .. found[2]} end
  if is_finished(found[3]) then
    return {0, 'step ' .. found[1] .. '#' .. id .. ' is ' .. STATUS_NAMES[found[3]] .. ', and a finished signature never runs again'}
  end
  if seen[id] then return {0, 'step ' .. found[1] .. '#' .. id .. ' is given twice'} end
  seen[id] = true
end
for from = 4 + n, #ARGV, 500 do redis.call('HSET', KEYS[1], unpack(ARGV, from, math.min(#ARGV, from + 499))) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
for i = 1, n do redis.call('HSET', KEYS[1 + i], F_PARENT, ARGV[2]) end
return {1}
