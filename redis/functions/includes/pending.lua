-- @include "int_arg"
-- @include "index_writes"
-- The pending listing (what `status:pending` was): small sorted sets, "buckets", of at most 128
-- entries each, so every bucket stays a listpack (zset-max-listpack-entries is 128 by default): an
-- entry costs ~12-36 bytes there instead of ~130 in one large skiplist sorted set.
--
-- Each entry into pending takes a pending sequence number p from the `seq` counter behind job ids: a
-- fresh submit the one its id was made from, a requeue a new one (INCR). The entry goes into bucket
-- floor(p / 128) (`pending:<n>`), and as every number is taken once, a bucket never holds more than
-- 128 entries. Score = the time the job entered pending. Member = p mod 128 (1 byte in the listpack)
-- when the id follows from it (a fresh submit listed at its creation time: id = score-formatted ms,
-- "-", n * 128 + member), else the job id; in that case the job stores its bucket in its `bucket`
-- field, which is how a job leaving pending finds its entry: no field means bucket and member
-- follow from the id. (The field outlives the stay in pending; the next entry overwrites it.)
--
-- `pendingbuckets` indexes the non-empty buckets: bucket number -> U, the latest score ever added to
-- the bucket (an upper bound of its entries). A job entering pending is listed at max(now, the
-- highest U): scores never decrease in the order jobs enter, even if the clock steps back, so each
-- bucket holds one contiguous run of the listing, and a bucket with a lower U than another holds
-- nothing above the other's entries. That is what lets a page read only the buckets it needs
-- (pending_page.lua). The count of pending jobs is the sum of the signature queues (stats.lua).
local PENDING_BUCKET = 128
local SEQ_SPACE = 10000000000 -- job ids carry the sequence modulo this (10 digits)
local NO_BUCKET_FIELD = {}

-- A new pending sequence number, for a job entering pending again (requeue, the upgrade walk). O(1).
local function next_pending_seq(Q)
  return redis.call('INCR', Q.seq) % SEQ_SPACE
end

-- The bucket of pending sequence number p (a decimal string, as its key and index member spell
-- it), and p's member in it when the job's id follows from p. O(1).
local function pending_slot(p)
  return int_arg(math.floor(p / PENDING_BUCKET)), int_arg(p % PENDING_BUCKET)
end

-- The bucket and the member of a pending job's entry, from its id and its `bucket` field (nil
-- when it has none). O(1).
local function pending_entry(id, bucket)
  if bucket then return bucket, id end
  return pending_slot(tonumber(string.sub(id, 15)))
end

-- Lists job `id` as pending, with pending sequence number p (taken from Q.seq); `fresh` when p is
-- the one the id was made from. Returns the fields the job must store with its new status (its
-- `bucket`, or none when the entry follows from the id). 2 commands (3 when the time moved on or
-- the bucket is new), O(log B) for B buckets.
local function pending_add(Q, id, p, now, fresh)
  local top = redis.call('ZRANGE', Q.pending_buckets, '-1', '-1', 'WITHSCORES')
  local high = tonumber(top[2])
  local score = (high and high > now) and high or now
  local bucket, slot = pending_slot(p)
  local member, fields = id, { 'bucket', bucket }
  if fresh and score == now then
    member, fields = slot, NO_BUCKET_FIELD
  end
  local score_arg = int_arg(score)
  redis.call('ZADD', Q.pending_prefix .. bucket, score_arg, member)
  if top[1] ~= bucket or score > high then redis.call('ZADD', Q.pending_buckets, 'GT', score_arg, bucket) end
  return fields
end

-- Takes a job's entry out of the listing (`bucket`: its `bucket` field, or nil); an emptied
-- bucket leaves the index. 2 commands (3 when the bucket empties), or with a batch `W`
-- (includes/index_writes.lua) 2 per bucket at its flush. O(log B).
local function pending_remove(Q, id, bucket, W)
  local n, member = pending_entry(id, bucket)
  local key = Q.pending_prefix .. n
  index_write(W, 'ZREM', key, member)
  index_drop_if_empty(W, key, Q.pending_buckets, n)
end

-- When a pending job entered pending (its listing score): a job without a `bucket` field is listed
-- at its creation time, which its id carries (no read of the listing). 1 to 2 commands, O(1).
local function pending_since(Q, id)
  local bucket = redis.call('HGET', Q.job_prefix .. id, 'bucket')
  if not bucket then return tonumber(string.sub(id, 1, 13)) end
  return tonumber(redis.call('ZSCORE', Q.pending_prefix .. bucket, id))
end
