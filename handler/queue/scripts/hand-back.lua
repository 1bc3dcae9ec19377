-- Graceful shutdown: hand an unfinished job back without counting the attempt.
-- ARGV: prefix, id, token, now_ms
local p, id, token = ARGV[1], ARGV[2], ARGV[3]
local jk = p .. 'job:' .. id
local f = redis.call('HMGET', jk, 'state', 'lease_token', 'ready_score')
if f[1] ~= 'active' or f[2] ~= token then
  return cjson.encode({ ok = false, reason = 'lease_lost', state = f[1] })
end
redis.call('ZREM', p .. 'leases', id)
redis.call('HINCRBY', jk, 'attempts', -1)
redis.call('HSET', jk, 'state', 'queued', 'lease_token', '', 'stage', 'handed_back', 'progress', 0, 'updated_at', ARGV[4])
redis.call('ZADD', p .. 'ready', f[3], id)
return cjson.encode({ ok = true })
