-- @include "move_status"
-- @include "emit"
-- @include "pending"
-- @include "int_arg"
-- @include "index_writes"
-- The one place a pending job is leased to a worker: by a claim (claim.lua) and by a submit that
-- pushes it to the idle worker it wakes (includes/push_job.lua). The caller has taken the job out
-- of its signature's queue and settled the tenant's running cap.
--
-- `read_job` reads the job once, before it changes (one HGETALL). `new_lease` describes the lease
-- and the job's record as the lease leaves it (its stored fields with those the lease sets, less
-- its timeline field `tl`, with its id appended), so a push can send the record first and write the
-- lease only once a worker got it. `lease_job` writes it: the job moves to `active` with the
-- lease's fields and its `active` event (includes/emit.lua) in one HSET, leaves the pending listing
-- (includes/pending.lua), enters the lease deadline index and the worker's lease index
-- (`leases:<worker>`), and a capped tenant's running count goes up; the index writes go to the batch
-- `W` when given (includes/index_writes.lua), as a claim leasing many jobs does. `advance_clock` moves a
-- service's fair-share clock to the tag of the latest job leased (includes/fair_tag.lua).
-- O(log N + log B) per lease (emit, move_status, the pending bucket), plus the record's size;
-- advance_clock O(1), or O(log T + k) once per 1024 jobs' worth of clock when it forgets k tenants
-- behind it.

-- The fields of a job that a lease reads, from its HGETALL.
local LEASE_READS = { tenant = true, tag = true, attempts = true, status = true, worker = true, machine = true, tl = true,
  bucket = true, createdAt = true }
-- Every field a lease may set: the record carries the new values.
local LEASE_SETS = { status = true, updatedAt = true, attempts = true, worker = true, machine = true, lease = true,
  leaseDeadline = true, startedAt = true, capped = true, tl = true }

-- The job's hash as stored (flat field, value array) and the fields a lease reads from it.
local function read_job(Q, id)
  local stored = redis.call('HGETALL', Q.job_prefix .. id)
  local f = {}
  for i = 1, #stored, 2 do
    if LEASE_READS[stored[i]] then f[stored[i]] = stored[i + 1] end
  end
  return stored, f
end

-- `capped`: whether the job's tenant has a running cap. The caller sets `fresh` on the lease to the
-- job's stored fields when the job is not written yet (a submit's push of its own job).
local function new_lease(id, stored, f, worker, machine, token, now, lease_ms, capped)
  local attempt, deadline = (tonumber(f.attempts) or 0) + 1, now + lease_ms
  local deadline_arg, now_arg = int_arg(deadline), int_arg(now)
  local fields = { 'attempts', int_arg(attempt), 'worker', worker, 'machine', machine, 'lease', token,
    'leaseDeadline', deadline_arg, 'startedAt', now_arg }
  if capped then
    fields[13], fields[14] = 'capped', '1'
  end
  local record = { 'status', 'active', 'updatedAt', now_arg }
  for i = 1, #stored, 2 do
    if not LEASE_SETS[stored[i]] then
      record[#record + 1] = stored[i]
      record[#record + 1] = stored[i + 1]
    end
  end
  for i = 1, #fields do record[#record + 1] = fields[i] end
  record[#record + 1] = 'id'
  record[#record + 1] = id
  return { id = id, f = f, tag = tonumber(f.tag), attempt = attempt, worker = worker, machine = machine, now = now,
    deadline = deadline_arg, capped = capped, fields = fields, record = record, fresh = false }
end

local function lease_job(Q, L, W)
  local id, f, fields = L.id, L.f, L.fields
  local job_key, timeline_key = Q.job_prefix .. id, Q.timeline_prefix .. id
  if L.capped then redis.call('HINCRBY', Q.tenant_running, f.tenant, 1) end
  -- A job leased before keeps its previous run in its `active` entry (includes/emit.lua).
  local tl = with_run(timeline_of(timeline_key, f.tl, f.status, f.createdAt == nil), f.worker, f.machine, f.attempts)
  fields[#fields + 1] = 'tl'
  fields[#fields + 1] = emit(Q.events, timeline_key, job_key, id, f.tenant, tl, 'active', L.now,
    { 'worker', L.worker, 'machine', L.machine, 'attempt', L.attempt })
  -- A job leased by the submit that made it (includes/push_job.lua) is written whole here, and
  -- was never listed.
  if L.fresh then
    for i = 1, #L.fresh do fields[#fields + 1] = L.fresh[i] end
  end
  move_status(Q.status_prefix, job_key, id, 'pending', 'active', L.now, fields)
  if not L.fresh then pending_remove(Q, id, f.bucket, W) end
  index_write(W, 'ZADD', Q.active, L.deadline, id)
  index_write(W, 'SADD', Q.leases_prefix .. L.worker, id)
end

-- Sets the service's clock to `tag` (the caller checked it is ahead of `clock`, the clock read at the
-- start of its call). A tenant whose last tag is behind the clock is tagged from the clock anyway:
-- forget those, once per 1024 jobs' worth of clock (an entry left behind a while costs only its bytes).
local function advance_clock(Q, service, tag, clock)
  redis.call('HSET', Q.fair_share, 'clock:' .. service, tag)
  if math.floor(tag / 1048576) > math.floor(clock / 1048576) then
    redis.call('ZREMRANGEBYSCORE', Q.vfinish_prefix .. service, '-inf', tag)
  end
end
