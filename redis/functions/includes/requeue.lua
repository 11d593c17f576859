-- @include "enqueue"
-- @include "move_status"
-- @include "emit"
-- @include "wake_one"
-- Returns a job to its pending index at its original rank (a retried or reaped job keeps its
-- place in line) and wakes one idle worker able to run it. `Q` names the keys and settings:
-- job_prefix, timeline_prefix, sig_prefix, age_prefix, svc_heads_prefix, status_prefix, events,
-- svc_classes_prefix, idle_prefix, sigs, classes, compat, channel_prefix, idle_ttl.
-- O(log N + C).
local function requeue(Q, job_id, from, now, reason)
  local job_key = Q.job_prefix .. job_id
  local f = redis.call('HMGET', job_key, 'sig', 'service', 'rank', 'tenant')
  enqueue(Q.sig_prefix, Q.age_prefix, Q.svc_heads_prefix, job_id, f[1], f[2], tonumber(f[3]), now)
  move_status(Q.status_prefix, job_key, job_id, from, 'pending', now)
  emit(Q.events, Q.timeline_prefix .. job_id, job_id, f[4], 'pending', now, { 'service', f[2], 'reason', reason })
  wake_one(Q.svc_classes_prefix, Q.idle_prefix, Q.sigs, Q.classes, Q.compat, Q.channel_prefix, f[2], f[1], now, Q.idle_ttl)
end

-- The requeue context from the 12 KEYS every requeuing function passes in this order, starting at
-- KEYS[first]: job prefix, timeline prefix, events, sigs, sig prefix, age prefix, svc heads prefix,
-- status prefix, svc classes prefix, idle prefix, classes, compat.
local function requeue_context(KEYS, first, channel_prefix, idle_ttl)
  local k = function(i) return KEYS[first + i] end
  return {
    job_prefix = k(0), timeline_prefix = k(1), events = k(2), sigs = k(3), sig_prefix = k(4),
    age_prefix = k(5), svc_heads_prefix = k(6), status_prefix = k(7), svc_classes_prefix = k(8),
    idle_prefix = k(9), classes = k(10), compat = k(11),
    channel_prefix = channel_prefix, idle_ttl = tonumber(idle_ttl),
  }
end
