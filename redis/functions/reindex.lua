--[[
reindex: brings pending jobs written by a previous library into this library's indexes, a batch
per call, so an upgrade of a live Redis loses no queued job. Those libraries listed pending jobs in
one sorted set, `status:pending` (job id -> time it entered pending); this one lists them in small
buckets (includes/pending.lua). Each call pops the oldest entries of `status:pending` and lists
those jobs in buckets of their own: the call reserves whole buckets for them by moving the `seq`
counter past them, so they never share a bucket with jobs entering pending meanwhile, and keeps
each job's time, so listing order and waiting times are unchanged. An entry whose job is no longer
pending, or is already in a bucket (it left pending and came back since the upgrade), is dropped.
Jobs of conveyor_v2 (ranked by enqueue time, no fair-share tags) are also tagged in the order they
were queued, so they keep their order among themselves and run before work submitted after the
upgrade. Popping makes the walk safe to repeat and to run from several processes at once; it is
done when `status:pending` is gone. Upgrade with the previous version's processes stopped: a job
they queue after the walk is claimable (its signature queue is shared) but not listed, until the
next walk (every `Broker.connect` that loads the library runs one). (Delayed and active jobs of
conveyor_v2 are tagged when they return to pending: includes/requeue.lua.)

KEYS[1]  the previous libraries' layout marker (string), deleted once done
KEYS[2]  conveyor_v2's compatibility cache (hash), deleted once done
KEYS[3]  conveyor_v2's signatures (hash), deleted once done
KEYS[4]  conveyor_v2's classes (hash), deleted once done
KEYS[5..34] the queue keys (includes/queue.lua)

ARGV[1] most pending jobs to examine in this call
ARGV[2] priority weight (see submit.lua)

Returns {0, moved, done}: done is 1 once no job is left in `status:pending`.
Events: none (the jobs stay pending; only their place in the indexes moves).
Complexity: O(b (log N + log B + c log G)) for b jobs examined (ARGV[1]), B buckets; O(1) once done.
]]
-- @include "queue"
-- @include "fair_tag"
-- @include "register_signature"
-- @include "place_head"
-- @include "sig_queue"
-- @include "pending"
local function reindex(KEYS, ARGV)
  local Q = queue_context(KEYS, 5)
  local page = redis.call('ZPOPMIN', Q.status_prefix .. 'pending', tonumber(ARGV[1]))
  if #page == 0 then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
    return { 0, 0, 1 }
  end
  local listed = {}
  for i = 1, #page, 2 do
    local id = page[i]
    local job_key = Q.job_prefix .. id
    local f = redis.call('HMGET', job_key, 'status', 'bucket', 'tag', 'sig', 'service', 'tenant', 'requirements', 'priority', 'rank')
    if f[1] == 'pending' and not f[2] then
      if not f[3] and f[4] then
        local tag = fair_tag(Q, f[5], f[6])
        local rank = tag - (tonumber(f[8]) or 0) * tonumber(ARGV[2]) * 1024
        redis.call('HSET', job_key, 'tag', tag, 'rank', rank)
        -- The signature's queue may still hold other jobs of conveyor_v2, so it is registered here
        -- rather than on finding its queue empty (includes/enqueue.lua).
        register_signature(Q, f[4], job_spec_json(f[5], f[6], f[7]), f[5])
        -- The job is still queued at its conveyor_v2 rank: it moves to its new one.
        if f[9] then sq_remove(Q, f[4], id, tonumber(f[9])) end
        sq_add(Q, f[4], id, rank)
        place_head(Q, f[4])
      end
      listed[#listed + 1] = i
    end
  end
  if #listed == 0 then return { 0, 0, 0 } end
  -- The jobs take numbers from the first of the bucket after the one `seq` is in, and `seq` moves
  -- to the last number of the last bucket they fill: no later number falls in one of their buckets.
  local seq = tonumber(redis.call('GET', Q.seq)) or 0
  local first = (math.floor(seq / PENDING_BUCKET) + 1) * PENDING_BUCKET
  redis.call('INCRBY', Q.seq, first + math.ceil(#listed / PENDING_BUCKET) * PENDING_BUCKET - 1 - seq)
  local latest = {}
  for j = 1, #listed do
    local id, score = page[listed[j]], page[listed[j] + 1]
    local bucket = pending_slot((first + j - 1) % SEQ_SPACE)
    redis.call('ZADD', Q.pending_prefix .. bucket, score, id)
    redis.call('HSET', Q.job_prefix .. id, 'bucket', bucket)
    latest[bucket] = score
  end
  for bucket, score in pairs(latest) do redis.call('ZADD', Q.pending_buckets, 'GT', score, bucket) end
  return { 0, #listed, 0 }
end
