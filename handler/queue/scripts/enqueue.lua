-- Idempotent enqueue: a known job id returns its status and never creates a second job.
-- KEYS: none (all keys share the hash-tagged prefix in ARGV[1], so they live in one slot)
-- ARGV: prefix, id, payload, priority, ready_score, now_ms, audio_key[, band_width]
-- FIFO inside a priority band: a sorted set orders equal scores by member (the job id), so two
-- jobs enqueued in the same millisecond (or from a producer whose clock runs behind) would be
-- claimed in id order. The score is therefore raised to just above the band's newest waiting
-- job: arrival order at Redis decides, and scores stay the enqueue time whenever jobs arrive
-- less often than one per millisecond.
local p, id = ARGV[1], ARGV[2]
local jk = p .. 'job:' .. id
if redis.call('EXISTS', jk) == 1 then
  local f = redis.call('HMGET', jk, 'state', 'attempts')
  return cjson.encode({ created = false, id = id, state = f[1], attempts = tonumber(f[2]) })
end
local ready = p .. 'ready'
local score = tonumber(ARGV[5])
local band = tonumber(ARGV[8] or '10000000000000')
local lo = math.floor(score / band) * band
local newest = redis.call('ZREVRANGEBYSCORE', ready, '(' .. string.format('%.0f', lo + band), lo, 'WITHSCORES', 'LIMIT', 0, 1)
if #newest > 0 and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 1 end
score = string.format('%.0f', score)
redis.call('HSET', jk, 'id', id, 'payload', ARGV[3], 'priority', ARGV[4], 'ready_score', score,
  'state', 'queued', 'attempts', 0, 'created_at', ARGV[6], 'updated_at', ARGV[6], 'audio_key', ARGV[7])
redis.call('ZADD', ready, score, id)
return cjson.encode({ created = true, id = id, state = 'queued', attempts = 0 })
