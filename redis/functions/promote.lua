--[[
promote: moves delayed jobs whose due time has come back to their pending index, at their
original rank, waking one idle worker for each.

KEYS[1]  delayed   zset job id -> due time
KEYS[2]  job prefix
KEYS[3]  timeline prefix
KEYS[4]  events
KEYS[5]  sigs
KEYS[6]  sig prefix
KEYS[7]  age prefix
KEYS[8]  svc heads prefix
KEYS[9]  status prefix
KEYS[10] svc classes prefix
KEYS[11] idle prefix
KEYS[12] classes
KEYS[13] compat

ARGV[1] max jobs to promote in this call
ARGV[2] worker channel prefix
ARGV[3] idle ttl ms

Returns {0, promoted}.
Events: `pending` (reason `due`) per job.
Complexity: O(log D + k (log N + C)) for D delayed jobs and k promoted.
]]
-- @include "now_ms"
-- @include "requeue"
local function promote(KEYS, ARGV)
  local now = now_ms()
  local due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))
  local Q = requeue_context(KEYS, 2, ARGV[2], ARGV[3])
  for i = 1, #due do
    redis.call('ZREM', KEYS[1], due[i])
    redis.call('HDEL', Q.job_prefix .. due[i], 'dueAt')
    requeue(Q, due[i], 'delayed', now, 'due')
  end
  return { 0, #due }
end
