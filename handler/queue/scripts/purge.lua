-- Delete up to ARGV[3] jobs of one state set (records, results, stored audio). Returns how
-- many were deleted; the caller repeats until 0.
-- ARGV: prefix, set name (ready|delayed|dead|done|leases), batch size
local p = ARGV[1]
local set = p .. ARGV[2]
local ids = redis.call('ZRANGE', set, 0, tonumber(ARGV[3]) - 1)
for _, id in ipairs(ids) do
  local jk = p .. 'job:' .. id
  local audio = redis.call('HGET', jk, 'audio_key')
  if audio and audio ~= '' then redis.call('DEL', audio) end
  redis.call('DEL', jk, p .. 'result:' .. id)
  redis.call('ZREM', set, id)
end
return #ids
