-- @include "sig_queue"
-- @include "enqueue"
-- @include "fair_tag"
-- @include "move_status"
-- @include "pending"
-- @include "emit"
-- @include "wake_one"
-- Returns a job to its pending index at its original rank (a retried or reaped job keeps its
-- place in line) and wakes one idle worker able to run it. A signature pruned while the job was
-- away is registered again from the job's own fields. It is listed under a new pending sequence
-- number, in the newest bucket (includes/pending.lua). O(log N + log B + c log G + min(c, i)).
local function requeue(Q, job_id, from, now, reason, idle_ttl, channel_prefix)
  local job_key = Q.job_prefix .. job_id
  local f = redis.call('HMGET', job_key, 'sig', 'service', 'rank', 'tenant', 'requirements', 'tag', 'prefer', 'tl')
  local sig, service = f[1], f[2]
  local rank = stored_rank(f[3], f[6])
  if not f[6] then
    -- A job of the previous library (ranked by time, see reindex.lua): tagged now, behind the
    -- jobs already queued, its priority aside.
    rank = fair_tag(Q, service, f[4])
    redis.call('HSET', job_key, 'tag', rank, 'rank', rank)
  end
  enqueue(Q, job_id, sig, function() return job_spec_json(service, f[4], f[5], f[7]) end, service, rank)
  local timeline_key = Q.timeline_prefix .. job_id
  local tl = emit(Q.events, timeline_key, job_key, job_id, f[4], timeline_of(timeline_key, f[8], from), 'pending', now,
    { 'service', service, 'reason', reason })
  local listing = pending_add(Q, job_id, next_pending_seq(Q), now, false)
  move_status(Q.status_prefix, job_key, job_id, from, 'pending', now, { 'tl', tl, listing[1], listing[2] })
  wake_one(Q, service, sig, now, idle_ttl, channel_prefix)
end
