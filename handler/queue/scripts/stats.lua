-- Counts per state, the oldest waiting job's enqueue time per priority band, recent completions.
-- Dead and failed come from counters kept by the scripts that move jobs in and out of the dead
-- letter, so this stays O(1) however long the dead letter grows.
-- ARGV: prefix, now_ms, band_width (score units per priority band)
local p, now, band = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local counts = redis.call('HMGET', p .. 'stats', 'dead', 'failed', 'done')
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
  dead = tonumber(counts[1] or '0'), failed = tonumber(counts[2] or '0'),
  done_last_5m = redis.call('ZCOUNT', p .. 'done', now - 300000, '+inf'),
  done_last_60m = redis.call('ZCOUNT', p .. 'done', now - 3600000, '+inf'),
  done_total = tonumber(counts[3] or '0'),
  oldest_queued_at = oldest,
})
