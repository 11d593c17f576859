--[[
progress: records a running job's progress and streams it to subscribers.

KEYS[1] job key
KEYS[2] timeline key
KEYS[3] events

ARGV[1] job id
ARGV[2] lease token
ARGV[3] progress JSON {percent, message?, data?}

Returns {0} recorded; {5} recorded, and cancellation was requested (the worker should stop);
{1} no such job; {2} lease lost.
Events: `progress`.
Commands: HMGET, XADD, HSET while the timeline is in the job hash (includes/emit.lua).
Complexity: O(1).
]]
-- @include "now_ms"
-- @include "check_lease"
-- @include "emit"
local function progress(KEYS, ARGV)
  local code, f = check_lease(KEYS[1], ARGV[2])
  if code ~= 0 then return { code } end
  local now = now_ms()
  local tl = emit(KEYS[3], KEYS[2], KEYS[1], ARGV[1], f[3], timeline_of(KEYS[2], f[10], 'active'), 'progress', now, { 'progress', ARGV[3] })
  redis.call('HSET', KEYS[1], 'progress', ARGV[3], 'updatedAt', now, 'tl', tl)
  if f[4] == '1' then return { 5 } end
  return { 0 }
end
