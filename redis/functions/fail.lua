--[[
fail: records a failed attempt; retries with backoff while attempts remain and the error is
retryable, otherwise fails the job for good. A job whose cancel was requested ends cancelled.

KEYS[1] job key
KEYS[2] timeline key
KEYS[3] active         zset job id -> lease deadline
KEYS[4] delayed        zset job id -> due time
KEYS[5] events
KEYS[6] status prefix

ARGV[1] job id
ARGV[2] lease token
ARGV[3] error JSON {code, message, retryable}
ARGV[4] '1' if the error is retryable
ARGV[5] retry delay ms demanded by the error (e.g. a server's Retry-After), '' to use the backoff
ARGV[6] retention ms for the finished job (0 keeps it)

Job fields read: attempts, maxAttempts, backoff JSON {type = fixed|exponential, delayMs, maxDelayMs}.
Returns {0, 'delayed', dueAt} | {0, 'failed'} | {0, 'cancelled'}; {1} no such job; {2} lease lost.
Events: `retrying` (with dueAt) or `failed` or `cancelled`.
Complexity: O(log N).
]]
-- @include "now_ms"
-- @include "check_lease"
-- @include "finish"
-- @include "move_status"
-- @include "emit"
local function fail(KEYS, ARGV)
  local id = ARGV[1]
  local code, f = check_lease(KEYS[1], ARGV[2])
  if code ~= 0 then return { code } end
  local now = now_ms()
  local tenant, attempts, max_attempts = f[3], tonumber(f[5]), tonumber(f[6])
  local err = { 'error', ARGV[3] }
  if f[4] == '1' then
    finish(KEYS[1], KEYS[2], KEYS[3], KEYS[6], id, 'active', 'cancelled', now, tonumber(ARGV[6]), err)
    emit(KEYS[5], KEYS[2], id, tenant, 'cancelled', now, nil)
    return { 0, 'cancelled' }
  end

  if ARGV[4] == '1' and attempts < max_attempts then
    local delay = tonumber(ARGV[5])
    if not delay then
      local backoff = cjson.decode(redis.call('HGET', KEYS[1], 'backoff') or '{}')
      delay = tonumber(backoff.delayMs) or 0
      if backoff.type == 'exponential' then delay = delay * 2 ^ (attempts - 1) end
      if tonumber(backoff.maxDelayMs) then delay = math.min(delay, tonumber(backoff.maxDelayMs)) end
    end
    local due = now + math.floor(delay)
    redis.call('ZREM', KEYS[3], id)
    redis.call('HDEL', KEYS[1], 'lease', 'leaseDeadline')
    redis.call('ZADD', KEYS[4], due, id)
    move_status(KEYS[6], KEYS[1], id, 'active', 'delayed', now, { 'dueAt', due, 'error', ARGV[3] })
    emit(KEYS[5], KEYS[2], id, tenant, 'retrying', now, { 'dueAt', due, 'error', ARGV[3] })
    return { 0, 'delayed', due }
  end

  finish(KEYS[1], KEYS[2], KEYS[3], KEYS[6], id, 'active', 'failed', now, tonumber(ARGV[6]), err)
  emit(KEYS[5], KEYS[2], id, tenant, 'failed', now, { 'error', ARGV[3] })
  return { 0, 'failed' }
end
