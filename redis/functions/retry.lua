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
-- @include "emit"
-- @include "requeue"
local function retry(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local id = ARGV[1]
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local f = redis.call('HMGET', job_key, 'status', 'tl', 'worker', 'machine', 'attempts')
  local status = f[1]
  if not status then return { 1 } end
  if status ~= 'failed' and status ~= 'cancelled' then return { 3, status } end
  redis.call('PERSIST', job_key)
  -- The run's fields go: its `active` entry gets them first (includes/emit.lua).
  local tl = with_run(timeline_of(timeline_key, f[2], status), f[3], f[4], f[5])
  if tl == '' then
    redis.call('PERSIST', timeline_key)
  elseif tl ~= f[2] then
    redis.call('HSET', job_key, 'tl', tl)
  end
  redis.call('HDEL', job_key, 'error', 'result', 'progress', 'finishedAt', 'cancelRequested', 'worker', 'machine', 'capped', 'attempts')
  requeue(Q, id, status, now_ms(), 'retry', tonumber(ARGV[3]), ARGV[2])
  return { 0 }
end
