-- @include "int_arg"
-- A signature's queue: its pending jobs in rank order (lower runs first), in buckets of a rank
-- range, `sig:<sig>:<b>` (zset, score = rank, member = job id) for b = floor(rank / 131072), so
-- that each bucket stays a listpack: a job costs ~35 bytes there instead of the ~118 of a skiplist
-- entry, which one sorted set of more than 128 jobs (zset-max-listpack-entries) would cost. A
-- weight-1 tenant's jobs at one priority level are 1024 ranks apart (includes/fair_tag.lua), so a
-- bucket holds at most 128 of them; a heavier tenant's or a workflow's jobs are closer and may
-- fill one past 128, which then costs what the single sorted set did.
--
-- `sig:<sig>` indexes the non-empty buckets (zset, score = member = b): it exists exactly while the
-- signature has pending jobs, so EXISTS on it says whether the queue is empty.
--
-- conveyor_v5 kept the jobs in `sig:<sig>` itself (member = job id). Such a queue is converted the
-- first time a function that writes opens it (`sq_open`): O(n log n) once for its n jobs.
local SIG_BUCKET_RANKS = 131072

-- A job's rank from its stored `rank` and `tag` fields: submit.lua stores the rank only where it
-- differs from the tag (a job at priority 0 ranks at its tag). O(1).
local function stored_rank(rank, tag)
  return tonumber(rank or tag)
end

local function sq_bucket(rank)
  return int_arg(math.floor(rank / SIG_BUCKET_RANKS))
end

-- Whether `member` of a signature's index is a job id: the queue is still in conveyor_v5's form.
local function sq_unconverted(member)
  return member ~= nil and string.find(member, '^%d+%-%d+$') ~= nil
end

-- The bucket index of `sig`, converted from conveyor_v5's form first if need be, and its first
-- bucket (nil when the queue is empty). For functions that write. O(1), or O(n log n) once for an
-- unconverted queue.
local function sq_open(Q, sig)
  local index = Q.sig_prefix .. sig
  local first = redis.call('ZRANGE', index, '0', '0')[1]
  if sq_unconverted(first) then
    local jobs = redis.call('ZRANGE', index, '0', '-1', 'WITHSCORES')
    redis.call('DEL', index)
    local last
    for i = 1, #jobs, 2 do
      local b = sq_bucket(tonumber(jobs[i + 1]))
      redis.call('ZADD', index .. ':' .. b, jobs[i + 1], jobs[i])
      -- In rank order, so each bucket's jobs come together.
      if b ~= last then redis.call('ZADD', index, b, b) end
      last = b
    end
    first = redis.call('ZRANGE', index, '0', '0')[1]
  end
  return index, first
end

-- The head job's id and rank, or nil when the queue is empty. Writes nothing (read-only functions
-- use it): an unconverted queue is read as it is. O(1).
local function sq_head(Q, sig)
  local index = Q.sig_prefix .. sig
  local first = redis.call('ZRANGE', index, '0', '0', 'WITHSCORES')
  if not first[1] then return nil end
  if sq_unconverted(first[1]) then return first[1], tonumber(first[2]) end
  local head = redis.call('ZRANGE', index .. ':' .. first[1], '0', '0', 'WITHSCORES')
  return head[1], tonumber(head[2])
end

-- For functions that write: the head job's id and rank and its bucket, as `sq_pop` takes it, or nil
-- when the queue is empty. O(1).
local function sq_peek(Q, sig)
  local index, first = sq_open(Q, sig)
  if not first then return nil end
  local head = redis.call('ZRANGE', index .. ':' .. first, '0', '0', 'WITHSCORES')
  return head[1], tonumber(head[2]), first
end

-- Adds a job at its rank. Returns 'first' when the queue was empty, 'head' when the job is its new
-- head, nil otherwise. O(log n) for n jobs in the bucket.
local function sq_add(Q, sig, id, rank)
  local index, first = sq_open(Q, sig)
  local b = sq_bucket(rank)
  local bucket = index .. ':' .. b
  redis.call('ZADD', bucket, rank, id)
  if b ~= first then redis.call('ZADD', index, b, b) end
  if not first then return 'first' end
  if b == first then
    if redis.call('ZRANGE', bucket, '0', '0')[1] == id then return 'head' end
  elseif tonumber(b) < tonumber(first) then
    return 'head'
  end
  return nil
end

-- Pops the head job. Returns its id and rank, the rank of the job now at the head (false when the
-- queue emptied) and the head's bucket (nil when emptied), or nil when the queue was empty.
-- `first`, the head's bucket as `sq_peek` or an earlier pop in the same call returned it, spares
-- reading the index again: nothing but the caller changed the queue in between. O(log n).
local function sq_pop(Q, sig, first)
  local index = Q.sig_prefix .. sig
  if not first then index, first = sq_open(Q, sig) end
  while first do
    local bucket = index .. ':' .. first
    local popped = redis.call('ZPOPMIN', bucket)
    local after = redis.call('ZRANGE', bucket, '0', '0', 'WITHSCORES')
    if not after[1] then
      redis.call('ZREM', index, first)
      first = redis.call('ZRANGE', index, '0', '0')[1]
      if popped[1] and first then after = redis.call('ZRANGE', index .. ':' .. first, '0', '0', 'WITHSCORES') end
    end
    if popped[1] then return popped[1], tonumber(popped[2]), after[2] and tonumber(after[2]) or false, first end
  end
  return nil
end

-- Removes a job of rank `rank` (a cancel). Returns true when it was the head. O(log n).
local function sq_remove(Q, sig, id, rank)
  local index = Q.sig_prefix .. sig
  local head = sq_peek(Q, sig)
  local b = sq_bucket(rank)
  local bucket = index .. ':' .. b
  redis.call('ZREM', bucket, id)
  if redis.call('EXISTS', bucket) == 0 then redis.call('ZREM', index, b) end
  return head == id
end

-- How many jobs the queue holds. Writes nothing. O(k) for its k buckets.
local function sq_depth(Q, sig)
  local index = Q.sig_prefix .. sig
  if sq_unconverted(redis.call('ZRANGE', index, '0', '0')[1]) then return redis.call('ZCARD', index) end
  local buckets = redis.call('ZRANGE', index, '0', '-1')
  local depth = 0
  for i = 1, #buckets do depth = depth + redis.call('ZCARD', index .. ':' .. buckets[i]) end
  return depth
end
