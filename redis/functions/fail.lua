--[[
fail: records a failed attempt; retries with backoff while attempts remain and the error is
retryable, otherwise fails the job for good. A job whose cancel was requested ends cancelled.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] job id
ARGV[2] lease token
ARGV[3] error JSON {code, message, retryable}
ARGV[4] '1' if the error is retryable
ARGV[5] retry delay ms demanded by the error (e.g. a server's Retry-After), '' to use the backoff
ARGV[6] retention ms for the finished job (0 keeps it)
ARGV[7] max attempts of a job that stores none (the default)
ARGV[8] backoff JSON of a job that stores none (the default)
ARGV[9] worker channel prefix (a capped tenant's returned work wakes an idle worker)
ARGV[10] idle ttl ms

Job fields read: attempts, maxAttempts, backoff JSON {type = fixed|exponential, delayMs, maxDelayMs}.
Returns {0, 'delayed', dueAt} | {0, 'failed'} | {0, 'cancelled'}; {1} no such job; {2} lease lost.
Events: `retrying` (with dueAt) or `failed` or `cancelled`.
Complexity: O(log N); a capped tenant's first free slot also returns its parked signatures
(includes/release_slot.lua).
]]
-- @include "now_ms"
-- @include "check_lease"
-- @include "finish"
-- @include "move_status"
-- @include "emit"
-- @include "queue"
-- @include "release_slot"
-- @include "drop_lease"
local function fail(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local id = ARGV[1]
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local code, f = check_lease(job_key, ARGV[2])
  if code ~= 0 then return { code } end
  local now = now_ms()
  drop_lease(Q, id, f[9])
  local tenant, attempts, max_attempts = f[3], tonumber(f[5]), tonumber(f[6]) or tonumber(ARGV[7])
  if f[7] == '1' then
    redis.call('HDEL', job_key, 'capped')
    release_slot(Q, tenant, now, ARGV[9], tonumber(ARGV[10]))
  end
  local tl = timeline_of(timeline_key, f[10], 'active')
  if f[4] == '1' then
    tl = emit(Q.events, timeline_key, job_key, id, tenant, tl, 'cancelled', now, nil)
    finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'cancelled', now, tonumber(ARGV[6]), { 'error', ARGV[3] }, tl)
    return { 0, 'cancelled' }
  end

  if ARGV[4] == '1' and attempts < max_attempts then
    local delay = tonumber(ARGV[5])
    if not delay then
      local backoff = cjson.decode(redis.call('HGET', job_key, 'backoff') or ARGV[8])
      delay = tonumber(backoff.delayMs) or 0
      if backoff.type == 'exponential' then delay = delay * 2 ^ (attempts - 1) end
      if tonumber(backoff.maxDelayMs) then delay = math.min(delay, tonumber(backoff.maxDelayMs)) end
    end
    local due = now + math.floor(delay)
    redis.call('ZREM', Q.active, id)
    redis.call('HDEL', job_key, 'lease', 'leaseDeadline')
    redis.call('ZADD', Q.delayed, due, id)
    tl = emit(Q.events, timeline_key, job_key, id, tenant, tl, 'retrying', now, { 'dueAt', due, 'error', ARGV[3] })
    move_status(Q.status_prefix, job_key, id, 'active', 'delayed', now, { 'dueAt', due, 'error', ARGV[3], 'tl', tl })
    return { 0, 'delayed', due }
  end

  tl = emit(Q.events, timeline_key, job_key, id, tenant, tl, 'failed', now, { 'error', ARGV[3] })
  finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'failed', now, tonumber(ARGV[6]), { 'error', ARGV[3] }, tl)
  return { 0, 'failed' }
end
