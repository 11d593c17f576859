--[[
submit: creates a job and makes it claimable, exactly once per idempotency key.

KEYS[1]  idem prefix      + tenant:key -> job id
KEYS[2]  workflow prefix  + workflow id -> first step's fair-share tag
KEYS[3..32] the queue keys (includes/queue.lua; its `seq` is the counter behind time-ordered job ids)

ARGV[1]  service
ARGV[2]  tenant
ARGV[3]  signature
ARGV[4]  signature spec JSON {service, tenant, requirements}
ARGV[5]  priority (integer, higher runs sooner)
ARGV[6]  priority weight: one priority level outranks this many jobs of a weight-1 tenant

Rank (the pending index score, lower runs first) = tag - priority * weight * 1024, where tag is the
job's fair-share tag (includes/fair_tag.lua): tenants interleave within a level, each job of a
tenant adds 1024 / its weight to its tag, and one priority level outranks `weight` such jobs.
The steps of a workflow share their first step's tag, so a later step is not sent to the back.
ARGV[7]  idempotency key, '' for none
ARGV[8]  idempotency key ttl ms
ARGV[9]  workflow id, '' for none
ARGV[10] delay ms before the job becomes claimable, 0 for none
ARGV[11] worker channel prefix (for waking one idle worker)
ARGV[12] idle ttl ms (idle registrations older than this are dead)
ARGV[13] lease token for a push at wake, '' for plain wake-ups only (Cluster: see below)
ARGV[14] lease ms of a pushed job
ARGV[15] warm window of a push (as claim's ARGV[11])
ARGV[16..] field, value pairs stored on the job as given (payload, and any of requirements, priority,
          maxAttempts, backoff not at their defaults, ...)

Push at wake (includes/push_job.lua): the idle worker the submit wakes is leased the job its claim
would take (this one, or a better one already pending for it) and sent it on its channel, so it
runs it with no claim round trip; with nobody listening on its channel nothing is leased and the
next idle worker is tried. The worker is found before this job is queued, and when the job is the
one it takes, the job is leased as it is written: it never enters its signature's queue, the head
indexes or the pending listing (a capped tenant's job is queued first, so that its cap is settled as
a claim settles it). The lease is written only when the message reached a subscriber, which
PUBLISH's receiver count says exactly on one server or Sentinel, not on Cluster: there the broker
passes no token and wake-ups are plain.

Returns {0, id} created; {4, id} duplicate idempotency key: the existing job, nothing written.
Events: `pending` or `delayed` on the job timeline and the global stream (a `pending` submit's
timeline entry is implicit: includes/emit.lua); `active` on a pushed job.
A pending job is listed in the bucket of its id's sequence number at its creation time, which its
id carries: it stores nothing for the listing (includes/pending.lua).
Complexity: O(log N + log T + log B) for N jobs in an index, T tenants with queued work and B
non-empty pending buckets; plus, when the
job is its signature's new head, O(c log G) for the c classes able to run it; the wake-up walks at
most min(c, classes with an idle worker), so a busy fleet adds O(1). A signature seen for the first
time costs O(C) once, for the C classes of its service. A push adds O(log G) per head read (at most
27) and O(log N + log B + c (1 + m) log G + S log W) to lease (m preferred models, S services of the
worker).
]]
-- @include "now_ms"
-- @include "queue"
-- @include "emit"
-- @include "fair_tag"
-- @include "enqueue"
-- @include "move_status"
-- @include "pending"
-- @include "wake_one"
-- @include "register_signature"
local function submit(KEYS, ARGV)
  local Q = queue_context(KEYS, 3)
  local service, tenant, sig = ARGV[1], ARGV[2], ARGV[3]
  local now = now_ms()
  local idem_key
  if ARGV[7] ~= '' then
    idem_key = KEYS[1] .. tenant .. ':' .. ARGV[7]
    local existing = redis.call('GET', idem_key)
    if existing then return { 4, existing } end
  end

  local seq = redis.call('INCR', Q.seq) % SEQ_SPACE
  local id = string.format('%013d-%010d', now, seq)
  local tag
  local wf_key = ARGV[9] ~= '' and KEYS[2] .. ARGV[9]
  if wf_key then tag = tonumber(redis.call('GET', wf_key)) end
  if not tag then
    tag = fair_tag(Q, service, tenant)
    if wf_key then redis.call('SET', wf_key, tag, 'PX', 7 * 24 * 3600 * 1000) end
  end
  local rank = tag - tonumber(ARGV[5]) * tonumber(ARGV[6]) * 1024

  local job_key = Q.job_prefix .. id
  local delay = tonumber(ARGV[10])
  -- priority, attempts, maxAttempts and backoff are stored only when not at their defaults; so is
  -- the rank, which is the tag at priority 0. createdAt is the id's first 13 digits.
  local fields = { 'service', service, 'tenant', tenant, 'sig', sig, 'tag', tag }
  if rank ~= tag then
    fields[#fields + 1] = 'rank'
    fields[#fields + 1] = rank
  end
  for i = 16, #ARGV do fields[#fields + 1] = ARGV[i] end
  if idem_key then redis.call('SET', idem_key, id, 'PX', tonumber(ARGV[8])) end
  -- The whole record is written by one HSET (move_status, or the lease of a push). The id is the
  -- key's, and updatedAt is createdAt until the first change: none is stored twice.
  if delay > 0 then
    -- A delayed job stores its `delayed` timeline entry (its dueAt changes later).
    fields[#fields + 1] = 'dueAt'
    fields[#fields + 1] = now + delay
    fields[#fields + 1] = 'tl'
    fields[#fields + 1] = emit(Q.events, Q.timeline_prefix .. id, job_key, id, tenant, false, 'delayed', now, { 'service', service, 'dueAt', now + delay })
    move_status(Q.status_prefix, job_key, id, nil, 'delayed', now, fields)
    redis.call('ZADD', Q.delayed, now + delay, id)
    return { 0, id }
  end

  -- A pending job's timeline is its implicit submit entry: nothing stored.
  publish(Q.events, id, tenant, 'pending', now, { 'service', service })
  local push = ARGV[13] ~= '' and { token = ARGV[13], lease_ms = tonumber(ARGV[14]), window = tonumber(ARGV[15]) } or nil
  -- A busy fleet (no idle worker of the service) costs the wake-up one EXISTS and nothing more. With
  -- pushes on, the worker woken is offered this job before it is queued (includes/push_job.lua); a
  -- capped tenant's job is queued first, so the push settles its cap as a claim would.
  local idle = any_idle(Q, service)
  local fresh
  if idle and push and not redis.call('HGET', Q.tenant_caps, tenant) then
    register_signature(Q, sig, ARGV[4], service)
    fresh = { id = id, sig = sig, rank = rank, stored = fields, f = { tenant = tenant, tag = tag, status = 'pending' }, leased = false }
    wake_idle(Q, service, sig, now, tonumber(ARGV[12]), ARGV[11], push, fresh)
    if fresh.leased then return { 0, id } end
  end
  local listing = pending_add(Q, id, seq, now, true)
  for i = 1, #listing do fields[#fields + 1] = listing[i] end
  move_status(Q.status_prefix, job_key, id, nil, 'pending', now, fields)
  enqueue(Q, id, sig, not fresh and ARGV[4], service, rank)
  if idle and not fresh then wake_idle(Q, service, sig, now, tonumber(ARGV[12]), ARGV[11], push) end
  return { 0, id }
end
