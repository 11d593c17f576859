-- @include "requeue"
-- Moves up to `limit` delayed jobs whose due time has come back to pending, at their original
-- rank. Returns how many. O(log D + k (log N + c log G)) for D delayed jobs and k promoted.
local function promote_due(Q, now, limit, idle_ttl, channel_prefix)
  local due = redis.call('ZRANGE', Q.delayed, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  for i = 1, #due do
    redis.call('ZREM', Q.delayed, due[i])
    redis.call('HDEL', Q.job_prefix .. due[i], 'dueAt')
    requeue(Q, due[i], 'delayed', now, 'due', idle_ttl, channel_prefix)
  end
  return #due
end
