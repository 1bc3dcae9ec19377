-- Operator retry of a dead-lettered job: back to ready with a fresh attempt count.
-- ARGV: prefix, now_ms, id...
local p, now, moved = ARGV[1], ARGV[2], 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local jk = p .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'state', 'ready_score')
  if f[1] == 'dead' or f[1] == 'failed' then
    redis.call('ZREM', p .. 'dead', id)
    redis.call('HINCRBY', p .. 'stats', f[1], -1)
    redis.call('HSET', jk, 'state', 'queued', 'attempts', 0, 'stage', 'requeued', 'updated_at', now)
    redis.call('HDEL', jk, 'finished_at', 'not_before')
    redis.call('ZADD', p .. 'ready', f[2], id)
    moved = moved + 1
  end
end
return moved
