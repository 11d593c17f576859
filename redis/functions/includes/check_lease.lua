-- Does `token` hold the live lease on the job? Returns 0 and the job's
-- {status, lease, tenant, cancelRequested, attempts, maxAttempts, capped, progress, worker, tl}, or 1
-- (no such job) or 2 (lease lost: the job was reaped, finished or claimed again by someone else).
-- O(1).
local function check_lease(job_key, token)
  local f = redis.call('HMGET', job_key, 'status', 'lease', 'tenant', 'cancelRequested', 'attempts', 'maxAttempts', 'capped', 'progress', 'worker', 'tl')
  if not f[1] then return 1, f end
  if f[1] ~= 'active' or f[2] ~= token then return 2, f end
  return 0, f
end
