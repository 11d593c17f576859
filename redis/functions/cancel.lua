--[[
cancel: cancels a job. Pending and delayed jobs end at once; for an active job the cancellation
is requested and its worker is told over its channel (and again by its next progress or renew
call), and the job ends `cancelled` when the worker gives it back.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] job id
ARGV[2] worker channel prefix
ARGV[3] retention ms for the finished job (0 keeps it)

Returns {0, 'cancelled'} | {0, 'cancel-requested'}; {1} no such job;
{3, status} the job already ended (completed, failed or cancelled).
Events: `cancelled` or `cancel-requested`.
Complexity: O(log N + log B) for B pending buckets, plus O(c log G) when the job was its
signature's head.
]]
-- @include "now_ms"
-- @include "queue"
-- @include "place_head"
-- @include "sig_queue"
-- @include "finish"
-- @include "pending"
-- @include "emit"
local function cancel(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local id = ARGV[1]
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local f = redis.call('HMGET', job_key, 'status', 'tenant', 'sig', 'worker', 'tl', 'bucket', 'rank', 'tag')
  local status = f[1]
  if not status then return { 1 } end
  local now = now_ms()
  if status == 'active' then
    local tl = emit(Q.events, timeline_key, job_key, id, f[2], timeline_of(timeline_key, f[5], status), 'cancel-requested', now, { 'worker', f[4] })
    redis.call('HSET', job_key, 'cancelRequested', '1', 'tl', tl)
    redis.call('PUBLISH', ARGV[2] .. f[4], 'cancel:' .. id)
    return { 0, 'cancel-requested' }
  end
  if status == 'pending' then
    if sq_remove(Q, f[3], id, stored_rank(f[7], f[8])) then place_head(Q, f[3]) end
    pending_remove(Q, id, f[6])
  elseif status == 'delayed' then
    redis.call('ZREM', Q.delayed, id)
  else
    return { 3, status }
  end
  local tl = emit(Q.events, timeline_key, job_key, id, f[2], timeline_of(timeline_key, f[5], status), 'cancelled', now, nil)
  finish(job_key, timeline_key, Q.active, Q.status_prefix, id, status, 'cancelled', now, tonumber(ARGV[3]), {}, tl)
  return { 0, 'cancelled' }
end
