-- @include "requeue"
-- @include "finish"
-- @include "release_slot"
-- @include "emit"
-- @include "drop_lease"
-- Takes back a job whose worker lost its lease: it crashed or hung, so its lease expired (reap:
-- `lease-expired`), or a worker starting under its id gave the lease back (release:
-- `lease-released`). That is a stall, not a failed attempt: the attempt the claim counted is given
-- back and `stalls` counted instead, so crashes never spend `maxAttempts`. The job is requeued at
-- its original rank (fair-share tag kept), fails with STALLED once it has stalled more than its
-- `maxStalls` times, or ends cancelled if cancellation was requested.
-- Returns 'requeued' | 'failed' | 'cancelled'. O(log N + c log G) (requeue).
local function take_back(Q, id, event, now, retention, default_max_stalls, idle_ttl, channel_prefix)
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local f = redis.call('HMGET', job_key, 'tenant', 'worker', 'attempts', 'stalls', 'maxStalls', 'cancelRequested', 'capped', 'machine', 'tl')
  redis.call('ZREM', Q.active, id)
  drop_lease(Q, id, f[2])
  redis.call('HDEL', job_key, 'lease', 'leaseDeadline', 'capped')
  if f[7] == '1' then release_slot(Q, f[1], now, channel_prefix, idle_ttl) end
  -- The run's attempt is given back below: its `active` entry keeps the attempt it ran as.
  local tl = with_run(timeline_of(timeline_key, f[9], 'active'), f[2], f[8], f[3])
  tl = emit(Q.events, timeline_key, job_key, id, f[1], tl, event, now, { 'worker', f[2] or '' })
  if f[6] == '1' then
    tl = emit(Q.events, timeline_key, job_key, id, f[1], tl, 'cancelled', now, nil)
    finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'cancelled', now, retention, {}, tl)
    return 'cancelled'
  end
  local stalls = (tonumber(f[4]) or 0) + 1
  local attempts = math.max(0, (tonumber(f[3]) or 1) - 1)
  local max_stalls = tonumber(f[5]) or default_max_stalls
  if stalls > max_stalls then
    local err = cjson.encode({ code = 'STALLED', retryable = false,
      message = 'lost its lease ' .. stalls .. ' times (last on worker ' .. (f[2] or '?') .. ', which crashed or hung); maxStalls is ' .. max_stalls })
    tl = emit(Q.events, timeline_key, job_key, id, f[1], tl, 'failed', now, { 'error', err })
    finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'failed', now, retention, { 'error', err, 'stalls', stalls, 'attempts', attempts }, tl)
    return 'failed'
  end
  redis.call('HSET', job_key, 'stalls', stalls, 'attempts', attempts, 'tl', tl)
  requeue(Q, id, 'active', now, event, idle_ttl, channel_prefix)
  return 'requeued'
end
