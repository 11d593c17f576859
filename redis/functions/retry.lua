--[[
retry: runs a failed or cancelled job again, with a fresh attempt budget, at its original rank.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] job id
ARGV[2] worker channel prefix
ARGV[3] idle ttl ms

Returns {0} queued again; {1} no such job; {3, status} the job is not failed or cancelled.
Events: `pending` (reason `retry`).
Complexity: O(log N + c log G) (includes/requeue.lua).
]]
-- @include "now_ms"
-- @include "queue"
-- @include "requeue"
local function retry(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local id = ARGV[1]
  local job_key = Q.job_prefix .. id
  local status = redis.call('HGET', job_key, 'status')
  if not status then return { 1 } end
  if status ~= 'failed' and status ~= 'cancelled' then return { 3, status } end
  redis.call('PERSIST', job_key)
  redis.call('PERSIST', Q.timeline_prefix .. id)
  redis.call('HDEL', job_key, 'error', 'result', 'progress', 'finishedAt', 'cancelRequested', 'worker', 'machine', 'capped', 'attempts')
  requeue(Q, id, status, now_ms(), 'retry', tonumber(ARGV[3]), ARGV[2])
  return { 0 }
end
