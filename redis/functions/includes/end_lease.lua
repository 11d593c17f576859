-- @include "finish"
-- @include "release_slot"
-- @include "emit"
-- @include "drop_lease"
-- A job leaves its lease without finishing its run: taken back from a worker that lost it
-- (includes/take_back.lua) or given back by a worker that could not start it (give_back.lua).
-- `end_lease` takes it out of the lease deadline index and its worker's lease index, drops its lease
-- fields and frees a capped tenant's slot; it returns the job's {tenant, worker, attempts, stalls,
-- maxStalls, cancelRequested}. `end_cancelled` ends a job whose cancellation was requested meanwhile.
-- O(log N), plus release_slot's return of parked work.
local function end_lease(Q, id, now, channel_prefix, idle_ttl)
  local job_key = Q.job_prefix .. id
  local f = redis.call('HMGET', job_key, 'tenant', 'worker', 'attempts', 'stalls', 'maxStalls', 'cancelRequested', 'capped')
  redis.call('ZREM', Q.active, id)
  drop_lease(Q, id, f[2])
  redis.call('HDEL', job_key, 'lease', 'leaseDeadline', 'capped')
  if f[7] == '1' then release_slot(Q, f[1], now, channel_prefix, idle_ttl) end
  return f
end

local function end_cancelled(Q, id, tenant, now, retention)
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'cancelled', now, retention)
  emit(Q.events, timeline_key, id, tenant, 'cancelled', now, nil)
end
