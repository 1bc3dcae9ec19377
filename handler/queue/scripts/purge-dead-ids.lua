-- Delete the given jobs if they are in the dead letter (records, results, stored audio), as
-- purge.lua does for a whole set; a job that left the dead letter meanwhile is left alone.
-- Returns how many were deleted.
-- ARGV: prefix, id...
local p, n = ARGV[1], 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local jk = p .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'audio_key', 'state')
  if f[2] == 'dead' or f[2] == 'failed' then
    if f[1] and f[1] ~= '' then redis.call('DEL', f[1]) end
    redis.call('HINCRBY', p .. 'stats', f[2], -1)
    redis.call('DEL', jk, p .. 'result:' .. id)
    redis.call('ZREM', p .. 'dead', id)
    n = n + 1
  end
end
return n
