-- Read-only (run with EVALSHA_RO, so Redis refuses it any write): what the dashboard's overview
-- shows besides the counts of stats.lua, in one billed command whatever the queue holds.
-- ARGV: prefix, now_ms, parts (any of 'series', 'workers', 'dead', comma-separated),
--       dead_scan (newest dead-letter entries grouped by error code), workers_max
local p, now, parts = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local dead_scan, workers_max = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
local function has(part) return string.find(',' .. parts .. ',', ',' .. part .. ',', 1, true) ~= nil end

-- Completions and dead-lettered jobs per minute over the last hour, from the scores of the done
-- set (kept for one hour by complete.lua) and of the dead letter (the time a job entered it).
-- ZCOUNT per bucket: O(log n) each, so a busy queue costs no more than a quiet one.
if has('series') then
  local first = now - (now % 60000) - 59 * 60000
  local done, failed = {}, {}
  for i = 0, 59 do
    local a = first + i * 60000
    done[i + 1] = redis.call('ZCOUNT', p .. 'done', a, '(' .. (a + 60000))
    failed[i + 1] = redis.call('ZCOUNT', p .. 'dead', a, '(' .. (a + 60000))
  end
  out.series = { first_minute = first, step_ms = 60000, done = done, failed = failed }
end

-- Worker records (live ones have a key; a member without one has stopped heartbeating), each
-- with the jobs it holds under lease now: the stage and progress of the job records, which are
-- fresher than the worker record (written once per heartbeat). Nothing is pruned: this script
-- never writes.
if has('workers') then
  local held = {}
  for _, jid in ipairs(redis.call('ZRANGE', p .. 'leases', 0, workers_max - 1)) do
    local f = redis.call('HMGET', p .. 'job:' .. jid, 'worker', 'stage', 'progress', 'claimed_at', 'attempts')
    if f[1] then
      held[f[1]] = held[f[1]] or {}
      table.insert(held[f[1]], { id = jid, stage = f[2], progress = tonumber(f[3]), claimed_at = tonumber(f[4]), attempts = tonumber(f[5]) })
    end
  end
  local ids = redis.call('ZREVRANGE', p .. 'workers', 0, workers_max - 1, 'WITHSCORES')
  local list = {}
  for i = 1, #ids, 2 do
    local id = ids[i]
    list[#list + 1] = { id = id, seen_at = tonumber(ids[i + 1]), record = redis.call('GET', p .. 'worker:' .. id), jobs = held[id] or {} }
  end
  out.workers = list
  out.workers_total = redis.call('ZCARD', p .. 'workers')
end

-- The dead letter grouped by error code, over its newest dead_scan entries.
if has('dead') then
  local ids = redis.call('ZREVRANGE', p .. 'dead', 0, dead_scan - 1, 'WITHSCORES')
  local groups, order = {}, {}
  for i = 1, #ids, 2 do
    local id, at = ids[i], tonumber(ids[i + 1])
    local f = redis.call('HMGET', p .. 'job:' .. id, 'state', 'last_error')
    local code, message, retryable = 'unknown', '', false
    if f[2] then
      local ok, e = pcall(cjson.decode, f[2])
      if ok and type(e) == 'table' then
        if type(e.code) == 'string' then code = e.code end
        if type(e.message) == 'string' then message = e.message end
        retryable = e.retryable == true
      end
    end
    local g = groups[code]
    if not g then
      g = { code = code, count = 0, dead = 0, failed = 0, newest_at = at, oldest_at = at, message = message, retryable = retryable, newest_id = id }
      groups[code] = g
      order[#order + 1] = code
    end
    g.count = g.count + 1
    if f[1] == 'failed' then g.failed = g.failed + 1 else g.dead = g.dead + 1 end
    g.oldest_at = at
  end
  local list = {}
  for _, code in ipairs(order) do list[#list + 1] = groups[code] end
  out.dead_letter = { total = redis.call('ZCARD', p .. 'dead'), scanned = #ids / 2, groups = list }
end

return cjson.encode(out)
