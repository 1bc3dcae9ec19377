-- Read-only (EVALSHA_RO): one job for the dashboard's job page, in one billed command: its
-- status fields, payload and result, and whether its pushed audio bytes are still stored (their
-- size and remaining lifetime; the key itself stays on the server). With mode 'audio' it
-- returns the stored audio (base64) instead.
-- ARGV: prefix, id, mode ('job'|'audio'), field names...
local p, id, mode = ARGV[1], ARGV[2], ARGV[3]
local jk = p .. 'job:' .. id
local key = redis.call('HGET', jk, 'audio_key')
local has_audio = key and key ~= ''

if mode == 'audio' then
  local b64 = false
  if has_audio then b64 = redis.call('GET', key) end
  return cjson.encode({ audio = b64 })
end

local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local out = {
  fields = redis.call('HMGET', jk, unpack(fields)),
  payload = redis.call('HGET', jk, 'payload'),
  result = redis.call('GET', p .. 'result:' .. id),
  audio_stored = has_audio and true or false,
  audio_b64_chars = 0,
  audio_ttl_ms = -2,
}
if has_audio then
  out.audio_b64_chars = redis.call('STRLEN', key)
  out.audio_ttl_ms = redis.call('PTTL', key)
end
return cjson.encode(out)
