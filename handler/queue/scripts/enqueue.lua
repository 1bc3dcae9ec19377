-- Idempotent enqueue: a known job id returns its status and never creates a second job.
-- KEYS: none (all keys share the hash-tagged prefix in ARGV[1], so they live in one slot)
-- ARGV: prefix, id, payload, priority, ready_score, now_ms, audio_key
local p, id = ARGV[1], ARGV[2]
local jk = p .. 'job:' .. id
if redis.call('EXISTS', jk) == 1 then
  local f = redis.call('HMGET', jk, 'state', 'attempts')
  return cjson.encode({ created = false, id = id, state = f[1], attempts = tonumber(f[2]) })
end
redis.call('HSET', jk, 'id', id, 'payload', ARGV[3], 'priority', ARGV[4], 'ready_score', ARGV[5],
  'state', 'queued', 'attempts', 0, 'created_at', ARGV[6], 'updated_at', ARGV[6], 'audio_key', ARGV[7])
redis.call('ZADD', p .. 'ready', ARGV[5], id)
return cjson.encode({ created = true, id = id, state = 'queued', attempts = 0 })
