--[[
retry: runs a failed or cancelled job again, with a fresh attempt budget, at its original rank.

KEYS[1]  job prefix
KEYS[2]  timeline prefix
KEYS[3]  events
KEYS[4]  sigs
KEYS[5]  sig prefix
KEYS[6]  age prefix
KEYS[7]  svc heads prefix
KEYS[8]  status prefix
KEYS[9]  svc classes prefix
KEYS[10] idle prefix
KEYS[11] classes
KEYS[12] compat

ARGV[1] job id
ARGV[2] worker channel prefix
ARGV[3] idle ttl ms

Returns {0} queued again; {1} no such job; {3, status} the job is not failed or cancelled.
Events: `pending` (reason `retry`).
Complexity: O(log N + C).
]]
-- @include "now_ms"
-- @include "requeue"
local function retry(KEYS, ARGV)
  local id = ARGV[1]
  local job_key = KEYS[1] .. id
  local status = redis.call('HGET', job_key, 'status')
  if not status then return { 1 } end
  if status ~= 'failed' and status ~= 'cancelled' then return { 3, status } end
  redis.call('PERSIST', job_key)
  redis.call('PERSIST', KEYS[2] .. id)
  redis.call('HDEL', job_key, 'error', 'result', 'progress', 'finishedAt', 'cancelRequested', 'worker', 'machine')
  redis.call('HSET', job_key, 'attempts', 0)
  local Q = requeue_context(KEYS, 1, ARGV[2], ARGV[3])
  requeue(Q, id, status, now_ms(), 'retry')
  return { 0 }
end
