-- Claim one job. First returns expired leases to ready (or to the dead letter when out of
-- attempts) and moves due retries to ready, then takes the highest-priority ready job,
-- records its lease and counts the attempt. The claim token makes a replayed request (the
-- client retries network failures) return the same job instead of taking a second one.
-- ARGV: prefix, now_ms, lease_until_ms, token, max_attempts, worker_id, claim_ttl_ms,
--       worker_record (JSON or ''), worker_ttl_ms
local p, now, lease_until, token = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local max_attempts, worker = tonumber(ARGV[5]), ARGV[6]

if ARGV[8] ~= '' then
  redis.call('SET', p .. 'worker:' .. worker, ARGV[8], 'PX', ARGV[9])
  redis.call('ZADD', p .. 'workers', now, worker)
end

local function reply(id, jk)
  local f = redis.call('HMGET', jk, 'payload', 'attempts', 'priority', 'audio_key', 'created_at')
  local audio = false
  if f[4] and f[4] ~= '' then audio = redis.call('GET', f[4]) end
  return cjson.encode({ id = id, payload = f[1], attempts = tonumber(f[2]), priority = f[3],
    audio_key = f[4], audio = audio, created_at = tonumber(f[5]), token = token })
end

local ck = p .. 'claim:' .. token
local prev = redis.call('GET', ck)
if prev then
  local jk = p .. 'job:' .. prev
  local f = redis.call('HMGET', jk, 'state', 'lease_token')
  if f[1] == 'active' and f[2] == token then return reply(prev, jk) end
  return cjson.encode({ none = true, replay = true })
end

local ready, leases = p .. 'ready', p .. 'leases'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 50)) do
  redis.call('ZREM', leases, id)
  local jk = p .. 'job:' .. id
  local f = redis.call('HMGET', jk, 'attempts', 'ready_score')
  local err = cjson.encode({ code = 'lease_expired', message = 'the worker holding this job stopped extending its lease (crash or hang)', retryable = true })
  redis.call('HSET', jk, 'lease_token', '', 'last_error', err, 'updated_at', now)
  if tonumber(f[1] or '0') >= max_attempts then
    redis.call('HSET', jk, 'state', 'dead', 'finished_at', now)
    redis.call('ZADD', p .. 'dead', now, id)
    redis.call('HINCRBY', p .. 'stats', 'dead', 1)
  else
    redis.call('HSET', jk, 'state', 'queued')
    redis.call('ZADD', ready, f[2], id)
  end
end

local delayed = p .. 'delayed'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 50)) do
  redis.call('ZREM', delayed, id)
  local jk = p .. 'job:' .. id
  redis.call('HSET', jk, 'state', 'queued', 'updated_at', now)
  redis.call('ZADD', ready, redis.call('HGET', jk, 'ready_score'), id)
end

local top = redis.call('ZRANGE', ready, 0, 0)
if #top == 0 then
  local nxt = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  return cjson.encode({ none = true, next_due = tonumber(nxt[2]) })
end
local id = top[1]
redis.call('ZREM', ready, id)
local jk = p .. 'job:' .. id
redis.call('HINCRBY', jk, 'attempts', 1)
redis.call('HSET', jk, 'state', 'active', 'lease_token', token, 'lease_until', lease_until,
  'worker', worker, 'claimed_at', now, 'updated_at', now, 'stage', 'claimed', 'progress', 0)
redis.call('ZADD', leases, lease_until, id)
redis.call('SET', ck, id, 'PX', ARGV[7])
return reply(id, jk)
