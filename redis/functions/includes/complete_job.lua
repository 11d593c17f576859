-- @include "check_lease"
-- @include "finish"
-- @include "emit"
-- @include "release_slot"
-- @include "drop_lease"
-- Records a job's result if `token` holds its lease; returns 0, or check_lease's 1 / 2 with
-- nothing written. Shared by `complete` and by `claim`, which completes a worker's finished jobs
-- in the same call that hands it new ones, its index writes gathered in the batch `W`
-- (includes/index_writes.lua). O(log N).
local function complete_job(Q, id, token, result, now, retention_ms, channel_prefix, idle_ttl, W)
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  local code, f = check_lease(job_key, token)
  if code ~= 0 then return code end
  -- A completed job's progress is 100%: stored only over a progress the job reported (keeping its
  -- last message and data, often the one that sums the result up), and implied otherwise
  -- (job-record.ts), as every byte of a retained job is kept for the retention period.
  local fields = { 'result', result }
  if f[8] then
    local ok, last = pcall(cjson.decode, f[8])
    if ok and type(last) == 'table' then
      last.percent = 100
      fields[3], fields[4] = 'progress', cjson.encode(last)
    else
      fields[3], fields[4] = 'progress', '{"percent":100}'
    end
  end
  local tl = emit(Q.events, timeline_key, job_key, id, f[3], timeline_of(timeline_key, f[10], 'active'), 'completed', now, nil)
  finish(job_key, timeline_key, Q.active, Q.status_prefix, id, 'active', 'completed', now, retention_ms, fields, tl, W)
  drop_lease(Q, id, f[9], W)
  if f[7] == '1' then release_slot(Q, f[3], now, channel_prefix, idle_ttl) end
  return 0
end
