-- @include "refresh_head"
-- Removes a pending job from its signature's index (and the service's head index with it). O(log N).
local function dequeue(sig_prefix, age_prefix, svc_heads_prefix, job_id, sig, service)
  local removed = redis.call('ZREM', sig_prefix .. sig, job_id)
  redis.call('ZREM', age_prefix .. sig, job_id)
  refresh_head(sig_prefix, svc_heads_prefix, sig, service)
  return removed
end
