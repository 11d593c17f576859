--[[
note: records an event that changes no state (a webhook delivery attempt) on a job's timeline and
the global event stream, through the same `emit` as every state change, so the timeline has one
writer and one format. The timeline keeps expiring with its job: in the job hash (includes/emit.lua)
it is one HSET; in the timeline key, whose expiry is set to the job's.

KEYS[1] job key
KEYS[2] timeline key
KEYS[3] events

ARGV[1] job id
ARGV[2] event type (`webhook`)
ARGV[3..] field, value pairs

Returns {0} recorded; {1} no such job (it expired): nothing written.
Events: the given type.
Commands: HMGET, XADD, HSET while the timeline is in the job hash.
Complexity: O(1).
]]
-- @include "now_ms"
-- @include "emit"
local function note(KEYS, ARGV)
  local f = redis.call('HMGET', KEYS[1], 'tenant', 'status', 'tl')
  if not f[1] then return { 1 } end
  local extra = {}
  for i = 3, #ARGV do extra[#extra + 1] = ARGV[i] end
  local tl = emit(KEYS[3], KEYS[2], KEYS[1], ARGV[1], f[1], timeline_of(KEYS[2], f[3], f[2]), ARGV[2], now_ms(), extra)
  if tl ~= f[3] then redis.call('HSET', KEYS[1], 'tl', tl) end
  if tl == '' then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  end
  return { 0 }
end
