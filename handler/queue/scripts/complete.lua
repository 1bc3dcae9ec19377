-- Store the result; only the lease holder may, and a replay of the same call is harmless.
-- ARGV: prefix, id, token, now_ms, result, result_ttl_s, done_window_ms
local p, id, token, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local jk = p .. 'job:' .. id
local f = redis.call('HMGET', jk, 'state', 'lease_token', 'last_token', 'audio_key')
if f[1] == 'done' and f[3] == token then
  return cjson.encode({ ok = true, duplicate = true })
end
if f[1] ~= 'active' or f[2] ~= token then
  return cjson.encode({ ok = false, reason = 'lease_lost', state = f[1] })
end
redis.call('SET', p .. 'result:' .. id, ARGV[5], 'EX', ARGV[6])
redis.call('HSET', jk, 'state', 'done', 'lease_token', '', 'last_token', token, 'stage', 'done',
  'progress', 1, 'finished_at', now, 'updated_at', now)
redis.call('EXPIRE', jk, ARGV[6])
redis.call('ZREM', p .. 'leases', id)
redis.call('ZADD', p .. 'done', now, id)
redis.call('ZREMRANGEBYSCORE', p .. 'done', '-inf', now - tonumber(ARGV[7]))
redis.call('HINCRBY', p .. 'stats', 'done', 1)
if f[4] and f[4] ~= '' then redis.call('DEL', f[4]) end
return cjson.encode({ ok = true })
