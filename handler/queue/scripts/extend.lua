-- Extend a lease and record the job's stage and progress; tells a holder that lost its
-- lease (expired and re-delivered) to abandon the job.
-- ARGV: prefix, id, token, now_ms, lease_until_ms, stage, progress, worker_id, worker_record, worker_ttl_ms
local p, id, token = ARGV[1], ARGV[2], ARGV[3]
if ARGV[9] ~= '' then
  redis.call('SET', p .. 'worker:' .. ARGV[8], ARGV[9], 'PX', ARGV[10])
  redis.call('ZADD', p .. 'workers', ARGV[4], ARGV[8])
end
local jk = p .. 'job:' .. id
local f = redis.call('HMGET', jk, 'state', 'lease_token')
if f[1] ~= 'active' or f[2] ~= token then
  return cjson.encode({ ok = false, reason = 'lease_lost' })
end
redis.call('HSET', jk, 'lease_until', ARGV[5], 'stage', ARGV[6], 'progress', ARGV[7], 'updated_at', ARGV[4])
redis.call('ZADD', p .. 'leases', ARGV[5], id)
return cjson.encode({ ok = true })
