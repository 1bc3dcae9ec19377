-- Read-only (EVALSHA_RO): one page of a state set with the status fields of each job, filtered
-- here so that a filtered list costs one billed command, not one per job. Scans at most
-- `scan` members from `offset`; the caller pages on with next_offset.
-- ARGV: prefix, set (ready|delayed|leases|dead|done), order ('asc'|'desc'), offset, scan, limit,
--       state ('' or one state), priority (''|high|normal|low), code ('' or an error code),
--       text ('' or a lower-case substring of the id or the worker), field names...
local p, set, order = ARGV[1], ARGV[1] .. ARGV[2], ARGV[3]
local offset, scan, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local want_state, want_prio, want_code, text = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local fields, at = {}, {}
for i = 11, #ARGV do
  fields[#fields + 1] = ARGV[i]
  at[ARGV[i]] = #fields
end

local members
if order == 'desc' then
  members = redis.call('ZREVRANGE', set, offset, offset + scan - 1)
else
  members = redis.call('ZRANGE', set, offset, offset + scan - 1)
end

local function code_of(raw)
  if not raw then return nil end
  local ok, e = pcall(cjson.decode, raw)
  if ok and type(e) == 'table' and type(e.code) == 'string' then return e.code end
  return nil
end

local rows, scanned = {}, 0
for _, id in ipairs(members) do
  if #rows >= limit then break end
  scanned = scanned + 1
  local f = redis.call('HMGET', p .. 'job:' .. id, unpack(fields))
  local keep = f[at.state] ~= false
  if keep and want_state ~= '' then keep = f[at.state] == want_state end
  if keep and want_prio ~= '' then keep = f[at.priority] == want_prio end
  if keep and want_code ~= '' then keep = code_of(f[at.last_error]) == want_code end
  if keep and text ~= '' then
    local worker = f[at.worker] or ''
    keep = string.find(string.lower(id), text, 1, true) ~= nil or string.find(string.lower(worker), text, 1, true) ~= nil
  end
  if keep then rows[#rows + 1] = f end
end

return cjson.encode({ total = redis.call('ZCARD', set), scanned = scanned, next_offset = offset + scanned, rows = rows })
