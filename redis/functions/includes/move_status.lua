-- @include "int_arg"
-- @include "index_writes"
-- Moves a job between the per-status listing indexes and records the new status on the job,
-- together with any `fields` (a flat field, value array) in the same HSET. A new job (no `from`) gets no updatedAt: it is its createdAt until the first change.
-- The index score is the time the job entered the status, which is what retention trims by.
-- `active`, `delayed` and `pending` have no listing index here: the lease and due-time indexes the
-- callers keep (`active`, `delayed`) list the first two, so a claim and a completion each write one
-- index less, and pending jobs are listed in buckets the callers keep (includes/pending.lua). The
-- listing index writes go to the batch `W` when given (includes/index_writes.lua). O(log N).
local OWN_INDEX = { active = true, delayed = true, pending = true }
local NO_FIELDS = {}
local function move_status(status_prefix, job_key, job_id, from, to, now, fields, W)
  if from and from ~= '' and not OWN_INDEX[from] then index_write(W, 'ZREM', status_prefix .. from, job_id) end
  if not OWN_INDEX[to] then index_write(W, 'ZADD', status_prefix .. to, int_arg(now), job_id) end
  fields = fields or NO_FIELDS
  if not from then
    redis.call('HSET', job_key, 'status', to, unpack(fields))
  else
    redis.call('HSET', job_key, 'status', to, 'updatedAt', int_arg(now), unpack(fields))
  end
end
