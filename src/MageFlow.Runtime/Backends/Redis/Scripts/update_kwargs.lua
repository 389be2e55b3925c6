-- Replaces named top-level kwargs (rule 5). Returns 0 when the signature is gone, -1 when the key is not a
-- signature record, else 1.
-- KEYS[1] signature key
-- ARGV name, json pairs (kwarg names without the kwarg field prefix)
local ok, record = pcall(read_record, KEYS[1])
if not ok then return -1 end
if not record then return 0 end
-- Names match case-insensitively (wire reads are case-insensitive): the new spelling replaces the old field.
local byLowerName = {}
for field in pairs(record) do
  if type(field) == 'string' and string.sub(field, 1, #F_KWARG_PREFIX) == F_KWARG_PREFIX then byLowerName[string.lower(field)] = field end
end
for i = 1, #ARGV, 2 do
  local field = F_KWARG_PREFIX .. ARGV[i]
  local lower = string.lower(field)
  local old = byLowerName[lower]
  if old and old ~= field then record[old] = nil end
  record[field] = ARGV[i + 1]
  byLowerName[lower] = field
end
write_record(KEYS[1], record)
return 1
