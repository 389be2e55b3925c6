-- Claims signatures of this partition as the steps or items of a container in another one, all or none, before the
-- container's own script (create_container.lua, swarm_add.lua) runs in its partition; 'release' hands back what a
-- refused container had claimed. The same checks as a container makes for its own partition (unclaimable).
-- KEYS: the children's keys; ARGV[1] mode ('step', 'item' or 'release'), ARGV[2] the container's id, ARGV[3] active
-- TTL ms (an item is kept that long, as swarm_add keeps its own), ARGV[4..] the children's ids, in the order of KEYS
-- Returns {1} claimed (or released), or {0, reply kind, child id, problem}.
local mode, container = ARGV[1], ARGV[2]
if mode == 'release' then
  for _, key in ipairs(KEYS) do
    local child = find_record(key)
    if child and child[F_PARENT] == container then change_record(key, {}, {F_PARENT}) end
  end
  return {1}
end
for i, key in ipairs(KEYS) do
  local problem = unclaimable(key, ARGV[3 + i], container, mode == 'step')
  if problem then return {0, problem[1], ARGV[3 + i], problem[2]} end
end
for _, key in ipairs(KEYS) do
  change_record(key, {F_PARENT, container})
  if mode == 'item' then redis.call('PEXPIRE', key, ARGV[3]) end
end
return {1}
