-- Delete up to ARGV[3] jobs of one state set (records, results, stored audio). Returns how
-- many were deleted; the caller repeats until 0.
-- ARGV: prefix, set name (ready|delayed|dead|done|leases), batch size
local p = ARGV[1]
local set = p .. ARGV[2]
local ids = redis.call('ZRANGE', set, 0, tonumber(ARGV[3]) - 1)
for _, id in ipairs(ids) do
  local jk = p .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'audio_key', 'state')
  if f[1] and f[1] ~= '' then redis.call('DEL', f[1]) end
  if ARGV[2] == 'dead' and (f[2] == 'dead' or f[2] == 'failed') then redis.call('HINCRBY', p .. 'stats', f[2], -1) end
  redis.call('DEL', jk, p .. 'result:' .. id)
  redis.call('ZREM', set, id)
end
return #ids
