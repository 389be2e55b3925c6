-- Stores a chain or a swarm (contract sections 6, 7), claiming a chain's steps in the same step: each must exist and be
-- no other container's step or item, and not finished; nothing is stored otherwise. Steps of another partition were
-- claimed there first (claim_children.lua); this checks and claims the ones of its own.
-- KEYS[1] the container's key
-- ARGV[1] the store's hash tag, ARGV[2] TTL ms, ARGV[3] the container's id, ARGV[4] n, ARGV[5..n+4] the step ids, then the
-- container's record (packed: docs/redis-v2-design.md section 14)
-- Returns {1} stored, or {0, problem}.
local ctx = context(ARGV[1], KEYS[1])
local id, n = ARGV[3], tonumber(ARGV[4])
local seen, own = {}, {}
for i = 1, n do
  local step = ARGV[4 + i]
  local key = here(ctx, step)
  if key then
    local problem = unclaimable(key, step, id, true)
    if problem then return {0, problem[2]} end
    own[#own + 1] = key
  end
  if seen[step] then return {0, 'step ' .. step .. ' is given twice'} end
  seen[step] = true
end
redis.call('SET', KEYS[1], ARGV[5 + n], 'PX', ARGV[2])
for _, key in ipairs(own) do change_record(key, {F_PARENT, id}) end
return {1}
