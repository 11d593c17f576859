--[[
submit: creates a job and makes it claimable, exactly once per idempotency key.

KEYS[1]  seq              counter behind time-ordered job ids
KEYS[2]  idem prefix      + tenant:key -> job id
KEYS[3]  workflow prefix  + workflow id -> first step's enqueue time
KEYS[4]  job prefix       + job id -> job hash
KEYS[5]  timeline prefix  + job id -> job timeline stream
KEYS[6]  sigs             signature -> canonical requirement spec (JSON)
KEYS[7]  sig prefix       + signature -> pending index (zset, score = rank)
KEYS[8]  age prefix       + signature -> pending since (zset, score = ms)
KEYS[9]  svc heads prefix + service -> signatures with pending jobs -> head rank
KEYS[10] delayed          zset job id -> due time
KEYS[11] events           global event stream
KEYS[12] status prefix    + status -> listing index
KEYS[13] svc classes prefix + service -> capability classes
KEYS[14] idle prefix      + class -> idle workers
KEYS[15] classes          class -> capabilities (JSON)
KEYS[16] compat           "sig|class" -> 1/0

ARGV[1]  service
ARGV[2]  tenant
ARGV[3]  signature
ARGV[4]  signature spec JSON {service, tenant, requirements}
ARGV[5]  priority (integer, higher runs sooner)
ARGV[6]  priority weight in ms: one priority level outranks this much waiting

Rank (the pending index score, lower runs first) = (enqueue ms * 1024 + seq mod 1024)
- priority * weight * 1024: one integer scale for every index, so heads compare across indexes;
a job waiting longer than `weight` per level overtakes higher priorities (aging); the sequence
part orders jobs of one millisecond FIFO without a tie-break by id. Below 2^53 (exact in a double)
until the year 2248 for |priority * weight| up to 1e9.
ARGV[7]  idempotency key, '' for none
ARGV[8]  idempotency key ttl ms
ARGV[9]  workflow id, '' for none
ARGV[10] delay ms before the job becomes claimable, 0 for none
ARGV[11] worker channel prefix (for waking one idle worker)
ARGV[12] idle ttl ms (idle registrations older than this are dead)
ARGV[13..] field, value pairs stored on the job as given (payload, requirements, ...)

Returns {0, id} created; {4, id} duplicate idempotency key: the existing job, nothing written.
Events: `pending` or `delayed` on the job timeline and the global stream.
Complexity: O(log N) for the index insert plus O(C) classes scanned by wake_one.
]]
-- @include "now_ms"
-- @include "emit"
-- @include "enqueue"
-- @include "move_status"
-- @include "wake_one"
local function submit(KEYS, ARGV)
  local service, tenant, sig = ARGV[1], ARGV[2], ARGV[3]
  local now = now_ms()
  local idem_key
  if ARGV[7] ~= '' then
    idem_key = KEYS[2] .. tenant .. ':' .. ARGV[7]
    local existing = redis.call('GET', idem_key)
    if existing then return { 4, existing } end
  end

  local seq = redis.call('INCR', KEYS[1])
  local id = string.format('%013d-%010d', now, seq % 10000000000)
  local enqueued_at = now
  if ARGV[9] ~= '' then
    local wf_key = KEYS[3] .. ARGV[9]
    redis.call('SET', wf_key, now, 'NX', 'PX', 7 * 24 * 3600 * 1000)
    enqueued_at = tonumber(redis.call('GET', wf_key))
  end
  local rank = (enqueued_at * 1024 + seq % 1024) - tonumber(ARGV[5]) * tonumber(ARGV[6]) * 1024

  redis.call('HSETNX', KEYS[6], sig, ARGV[4])
  local job_key = KEYS[4] .. id
  local delay = tonumber(ARGV[10])
  local fields = { 'id', id, 'service', service, 'tenant', tenant, 'sig', sig, 'rank', rank,
                   'priority', ARGV[5], 'attempts', 0, 'createdAt', now }
  for i = 13, #ARGV do fields[#fields + 1] = ARGV[i] end
  if delay > 0 then
    fields[#fields + 1] = 'dueAt'
    fields[#fields + 1] = now + delay
  end
  -- The whole record is written by the status move's single HSET.
  move_status(KEYS[12], job_key, id, nil, delay > 0 and 'delayed' or 'pending', now, fields)
  if idem_key then redis.call('SET', idem_key, id, 'PX', tonumber(ARGV[8])) end

  if delay > 0 then
    redis.call('ZADD', KEYS[10], now + delay, id)
    emit(KEYS[11], KEYS[5] .. id, id, tenant, 'delayed', now, { 'service', service, 'dueAt', now + delay })
  else
    enqueue(KEYS[7], KEYS[8], KEYS[9], id, sig, service, rank, now)
    emit(KEYS[11], KEYS[5] .. id, id, tenant, 'pending', now, { 'service', service })
    wake_one(KEYS[13], KEYS[14], KEYS[6], KEYS[15], KEYS[16], ARGV[11], service, sig, now, tonumber(ARGV[12]))
  end
  return { 0, id }
end
