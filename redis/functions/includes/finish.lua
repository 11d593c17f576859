-- @include "int_arg"
-- @include "move_status"
-- Ends a job's life: removes it from the active set, records it under its terminal status with
-- `fields` (its result or error; its finishedAt is its updatedAt, not stored twice) and its timeline
-- field `tl` (emit.lua) in one HSET, and lets the job expire after `retention_ms` (0 keeps it): one
-- key, and its timeline key too when the timeline is there (`tl` is ''). The stale lease fields
-- stay: a lease is only honoured while the job is active.
-- Expired entries of the terminal status index are trimmed by one job in 32 (chosen by id), which
-- keeps the index bounded at a fraction of the cost. The index writes go to the batch `W` when
-- given (includes/index_writes.lua). O(log N), O(log N + M) when trimming M.
local function finish(job_key, timeline_key, active_key, status_prefix, job_id, from, to, now, retention_ms, fields, tl, W)
  index_write(W, 'ZREM', active_key, job_id)
  fields[#fields + 1] = 'tl'
  fields[#fields + 1] = tl
  move_status(status_prefix, job_key, job_id, from, to, now, fields, W)
  if retention_ms > 0 then
    redis.call('PEXPIRE', job_key, int_arg(retention_ms))
    if tl == '' then redis.call('PEXPIRE', timeline_key, int_arg(retention_ms)) end
    if tonumber(string.sub(job_id, -2)) % 32 == 0 then
      redis.call('ZREMRANGEBYSCORE', status_prefix .. to, '-inf', now - retention_ms)
    end
  end
end
