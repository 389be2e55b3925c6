-- Trims from the front of each queue what its consumer group has finished with: entries are acknowledged
-- without XDEL (see acknowledge), and this one call per interval removes them together. Nothing pending and
-- nothing not yet delivered is trimmed: the bound is the oldest pending entry, or the one after the last
-- delivered when none is pending.
-- KEYS: the task streams; ARGV[1] consumer group
-- Returns how many entries were trimmed.

-- The smallest id after `id` ("ms-seq").
local function next_id(id)
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end

local function last_delivered(stream, group)
  for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
    local name, last
    for i = 1, #info, 2 do
      if info[i] == 'name' then name = info[i + 1] elseif info[i] == 'last-delivered-id' then last = info[i + 1] end
    end
    if name == group then return last end
  end
  return nil
end

local trimmed = 0
for _, stream in ipairs(KEYS) do
  -- pcall: a queue without the group (or not a stream) has nothing of ours to trim
  local ok, pending = pcall(redis.call, 'XPENDING', stream, ARGV[1])
  if ok then
    local bound = pending[2]
    if not bound then
      local last = last_delivered(stream, ARGV[1])
      bound = last and next_id(last)
    end
    if bound then trimmed = trimmed + redis.call('XTRIM', stream, 'MINID', bound) end
  end
end
return trimmed
