--[[
cancel: cancels a job. Pending and delayed jobs end at once; for an active job the cancellation
is requested and its worker is told over its channel (and again by its next progress or renew
call), and the job ends `cancelled` when the worker gives it back.

KEYS[1] job key
KEYS[2] timeline key
KEYS[3] events
KEYS[4] sig prefix
KEYS[5] age prefix
KEYS[6] svc heads prefix
KEYS[7] delayed
KEYS[8] active
KEYS[9] status prefix

ARGV[1] job id
ARGV[2] worker channel prefix
ARGV[3] retention ms for the finished job (0 keeps it)

Returns {0, 'cancelled'} | {0, 'cancel-requested'}; {1} no such job;
{3, status} the job already ended (completed, failed or cancelled).
Events: `cancelled` or `cancel-requested`.
Complexity: O(log N).
]]
-- @include "now_ms"
-- @include "dequeue"
-- @include "finish"
-- @include "emit"
local function cancel(KEYS, ARGV)
  local id = ARGV[1]
  local f = redis.call('HMGET', KEYS[1], 'status', 'tenant', 'sig', 'service', 'worker')
  local status = f[1]
  if not status then return { 1 } end
  local now = now_ms()
  if status == 'active' then
    redis.call('HSET', KEYS[1], 'cancelRequested', '1')
    redis.call('PUBLISH', ARGV[2] .. f[5], 'cancel:' .. id)
    emit(KEYS[3], KEYS[2], id, f[2], 'cancel-requested', now, { 'worker', f[5] })
    return { 0, 'cancel-requested' }
  end
  if status == 'pending' then
    dequeue(KEYS[4], KEYS[5], KEYS[6], id, f[3], f[4])
  elseif status == 'delayed' then
    redis.call('ZREM', KEYS[7], id)
  else
    return { 3, status }
  end
  finish(KEYS[1], KEYS[2], KEYS[8], KEYS[9], id, status, 'cancelled', now, tonumber(ARGV[3]))
  emit(KEYS[3], KEYS[2], id, f[2], 'cancelled', now, nil)
  return { 0, 'cancelled' }
end
