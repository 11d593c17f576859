--[[
reap: takes back jobs whose lease expired (their worker died or hung). Each is requeued at its
original rank with the attempt counted, or fails with LEASE_EXPIRED once its attempts are spent,
or ends cancelled if cancellation was requested. Any live process may call it; it runs at most
once per interval across the fleet.

KEYS[1]  reaper lock
KEYS[2]  active    zset job id -> lease deadline
KEYS[3]  job prefix
KEYS[4]  timeline prefix
KEYS[5]  events
KEYS[6]  sigs
KEYS[7]  sig prefix
KEYS[8]  age prefix
KEYS[9]  svc heads prefix
KEYS[10] status prefix
KEYS[11] svc classes prefix
KEYS[12] idle prefix
KEYS[13] classes
KEYS[14] compat

ARGV[1] interval ms (the lock's lifetime)
ARGV[2] max jobs to reap in this call
ARGV[3] worker channel prefix
ARGV[4] idle ttl ms
ARGV[5] retention ms for jobs that end here (0 keeps them)

Returns {0, requeued, failed, cancelled}; {6} skipped: another process reaped within the interval.
Events: `lease-expired` then `pending`, `failed` or `cancelled`, per job.
Complexity: O(log A + k (log N + C)) for A active jobs and k reaped.
]]
-- @include "now_ms"
-- @include "requeue"
-- @include "finish"
local function reap(KEYS, ARGV)
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', tonumber(ARGV[1])) then return { 6 } end
  local now = now_ms()
  local expired = redis.call('ZRANGE', KEYS[2], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
  local Q = requeue_context(KEYS, 3, ARGV[3], ARGV[4])
  local retention = tonumber(ARGV[5])
  local requeued, failed, cancelled = 0, 0, 0
  for i = 1, #expired do
    local id = expired[i]
    local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
    local f = redis.call('HMGET', job_key, 'tenant', 'worker', 'attempts', 'maxAttempts', 'cancelRequested')
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', job_key, 'lease', 'leaseDeadline')
    emit(Q.events, timeline_key, id, f[1], 'lease-expired', now, { 'worker', f[2] or '' })
    if f[5] == '1' then
      finish(job_key, timeline_key, KEYS[2], Q.status_prefix, id, 'active', 'cancelled', now, retention)
      emit(Q.events, timeline_key, id, f[1], 'cancelled', now, nil)
      cancelled = cancelled + 1
    elseif tonumber(f[3]) >= tonumber(f[4]) then
      local err = cjson.encode({ code = 'LEASE_EXPIRED', retryable = false,
        message = 'worker ' .. (f[2] or '?') .. ' stopped renewing its lease on the last attempt' })
      finish(job_key, timeline_key, KEYS[2], Q.status_prefix, id, 'active', 'failed', now, retention, { 'error', err })
      emit(Q.events, timeline_key, id, f[1], 'failed', now, { 'error', err })
      failed = failed + 1
    else
      requeue(Q, id, 'active', now, 'lease-expired')
      requeued = requeued + 1
    end
  end
  return { 0, requeued, failed, cancelled }
end
