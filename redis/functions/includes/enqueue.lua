-- Puts a job into its signature's pending index at its stored rank and keeps the service's index
-- of signature heads current (ZADD LT: only a better head moves it). O(log N + log S).
local function enqueue(sig_prefix, age_prefix, svc_heads_prefix, job_id, sig, service, rank, now)
  redis.call('ZADD', sig_prefix .. sig, rank, job_id)
  redis.call('ZADD', age_prefix .. sig, now, job_id)
  redis.call('ZADD', svc_heads_prefix .. service, 'LT', rank, sig)
end
