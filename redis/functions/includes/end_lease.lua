-- @include "finish"
-- @include "release_slot"
-- @include "emit"
-- @include "drop_lease"
-- A job leaves its lease without finishing its run: taken back from a worker that lost it
-- (includes/take_back.lua) or given back by a worker that could not start it (give_back.lua).
-- `end_lease` takes it out of the lease deadline index and its worker's lease index, drops its lease
-- fields, frees a capped tenant's slot and records `event` (with the worker, and `reason` if given);
-- it returns the job's {tenant, worker, attempts, stalls, maxStalls, cancelRequested, capped,
-- machine, tl} and its timeline field after the event, for the caller's next write
-- (includes/emit.lua). `end_cancelled` ends a job whose cancellation was requested meanwhile.
-- O(log N), plus release_slot's return of parked work.
local function end_lease(Q, id, event, reason, now, channel_prefix, idle_ttl)
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local f = redis.call('HMGET', job_key, 'tenant', 'worker', 'attempts', 'stalls', 'maxStalls', 'cancelRequested', 'capped', 'machine', 'tl')
  redis.call('ZREM', Q.active, id)
  drop_lease(Q, id, f[2])
  redis.call('HDEL', job_key, 'lease', 'leaseDeadline', 'capped')
  if f[7] == '1' then release_slot(Q, f[1], now, channel_prefix, idle_ttl) end
  -- The run's attempt may be given back: its `active` entry keeps the attempt it ran as.
  local tl = with_run(timeline_of(timeline_key, f[9], 'active'), f[2], f[8], f[3])
  local extra = { 'worker', f[2] or '' }
  if reason then
    extra[3], extra[4] = 'reason', reason
  end
  return f, emit(Q.events, timeline_key, job_key, id, f[1], tl, event, now, extra)
end

local function end_cancelled(Q, id, tenant, tl, now, retention)
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  tl = emit(Q.events, timeline_key, job_key, id, tenant, tl, 'cancelled', now, nil)
  finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'cancelled', now, retention, {}, tl)
end
