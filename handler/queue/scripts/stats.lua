-- Counts per state, the oldest waiting job's enqueue time per priority band, recent completions.
-- ARGV: prefix, now_ms, band_width (score units per priority band)
local p, now, band = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local dead, failed = 0, 0
for _, id in ipairs(redis.call('ZRANGE', p .. 'dead', 0, -1)) do
  if redis.call('HGET', p .. 'job:' .. id, 'state') == 'failed' then failed = failed + 1 else dead = dead + 1 end
end
local oldest = false
for rank = 0, 2 do
  local first = redis.call('ZRANGEBYSCORE', p .. 'ready', rank * band, (rank + 1) * band - 1, 'WITHSCORES', 'LIMIT', 0, 1)
  if #first > 0 then
    local t = tonumber(first[2]) - rank * band
    if not oldest or t < oldest then oldest = t end
  end
end
return cjson.encode({
  queued = redis.call('ZCARD', p .. 'ready'),
  active = redis.call('ZCARD', p .. 'leases'),
  retrying = redis.call('ZCARD', p .. 'delayed'),
  dead = dead, failed = failed,
  done_last_5m = redis.call('ZCOUNT', p .. 'done', now - 300000, '+inf'),
  done_last_60m = redis.call('ZCOUNT', p .. 'done', now - 3600000, '+inf'),
  done_total = tonumber(redis.call('HGET', p .. 'stats', 'done') or '0'),
  oldest_queued_at = oldest,
})
