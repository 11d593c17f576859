-- @include "check_lease"
-- @include "finish"
-- @include "emit"
-- Records a job's result if `token` holds its lease; returns 0, or check_lease's 1 / 2 with
-- nothing written. Shared by `complete` and by `claim`, which completes a worker's finished jobs
-- in the same call that hands it new ones. O(log N).
local function complete_job(job_key, timeline_key, active_key, events_key, status_prefix, id, token, result, now, retention_ms)
  local code, f = check_lease(job_key, token)
  if code ~= 0 then return code end
  finish(job_key, timeline_key, active_key, status_prefix, id, 'active', 'completed', now, retention_ms,
    { 'result', result, 'progress', '{"percent":100}' })
  emit(events_key, timeline_key, id, f[3], 'completed', now, nil)
  return 0
end
