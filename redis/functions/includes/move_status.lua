-- Moves a job between the per-status listing indexes and records the new status on the job,
-- together with any `fields` (a flat field, value array) in the same HSET. The index score is the
-- time the job entered the status, which is what retention trims by. O(log N).
local function move_status(status_prefix, job_key, job_id, from, to, now, fields)
  if from and from ~= '' then redis.call('ZREM', status_prefix .. from, job_id) end
  redis.call('ZADD', status_prefix .. to, now, job_id)
  if fields then
    redis.call('HSET', job_key, 'status', to, 'updatedAt', now, unpack(fields))
  else
    redis.call('HSET', job_key, 'status', to, 'updatedAt', now)
  end
end
