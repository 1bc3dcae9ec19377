-- Record a failed attempt: a retryable error with attempts left waits in the delayed set
-- (backoff computed by the caller); otherwise the job goes to the dead letter: state
-- 'failed' for a permanent error, 'dead' when retries ran out. A replay returns the outcome.
-- ARGV: prefix, id, token, now_ms, error_json, retryable ('1'|'0'), max_attempts, delay_ms
local p, id, token, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local jk = p .. 'job:' .. id
local f = redis.call('HMGET', jk, 'state', 'lease_token', 'last_token', 'attempts', 'not_before')
if f[3] == token and (f[1] == 'retrying' or f[1] == 'dead' or f[1] == 'failed') then
  return cjson.encode({ ok = true, duplicate = true, outcome = f[1], not_before = tonumber(f[5]) })
end
if f[1] ~= 'active' or f[2] ~= token then
  return cjson.encode({ ok = false, reason = 'lease_lost', state = f[1] })
end
redis.call('ZREM', p .. 'leases', id)
redis.call('HSET', jk, 'lease_token', '', 'last_token', token, 'last_error', ARGV[5], 'updated_at', now)
if ARGV[6] == '1' and tonumber(f[4]) < tonumber(ARGV[7]) then
  local nb = now + tonumber(ARGV[8])
  redis.call('HSET', jk, 'state', 'retrying', 'not_before', nb, 'stage', 'waiting_retry')
  redis.call('ZADD', p .. 'delayed', nb, id)
  return cjson.encode({ ok = true, outcome = 'retrying', not_before = nb })
end
local state = 'dead'
if ARGV[6] ~= '1' then state = 'failed' end
redis.call('HSET', jk, 'state', state, 'finished_at', now)
redis.call('ZADD', p .. 'dead', now, id)
redis.call('HINCRBY', p .. 'stats', state, 1)
return cjson.encode({ ok = true, outcome = state })
