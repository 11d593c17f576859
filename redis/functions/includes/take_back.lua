-- @include "requeue"
-- @include "finish"
-- @include "emit"
-- @include "end_lease"
-- Takes back a job whose worker lost its lease: it crashed or hung, so its lease expired (reap:
-- `lease-expired`), or a worker starting under its id gave the lease back (release:
-- `lease-released`). That is a stall, not a failed attempt: the attempt the claim counted is given
-- back and `stalls` counted instead, so crashes never spend `maxAttempts`. The job is requeued at
-- its original rank (fair-share tag kept), fails with STALLED once it has stalled more than its
-- `maxStalls` times, or ends cancelled if cancellation was requested.
-- Returns 'requeued' | 'failed' | 'cancelled'. O(log N + c log G) (requeue).
local function take_back(Q, id, event, now, retention, default_max_stalls, idle_ttl, channel_prefix)
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local f, tl = end_lease(Q, id, event, nil, now, channel_prefix, idle_ttl)
  if f[6] == '1' then
    end_cancelled(Q, id, f[1], tl, now, retention)
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
