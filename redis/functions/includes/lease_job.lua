-- @include "move_status"
-- @include "emit"
-- The one place a pending job is leased to a worker: by a claim (claim.lua) and by a submit that
-- pushes it to the idle worker it wakes (includes/push_job.lua). The caller has taken the job out
-- of its signature's queue and settled the tenant's running cap.
--
-- `new_lease` describes the lease; `leased_record` reads the job as the lease leaves it, before the
-- lease is written, so a push can send the record first and write the lease only once a worker got
-- it; `lease_job` writes it: the job moves to `active` with the lease's fields, enters the lease
-- deadline index and the worker's lease index (`leases:<worker>`), a capped tenant's running count
-- goes up, and `active` is emitted. `advance_clock` moves a service's fair-share clock to the tag of
-- the latest job leased (includes/fair_tag.lua).
-- O(log N) per lease, plus the record's size; advance_clock O(1), or O(log T + k) once per 1024 jobs'
-- worth of clock when it forgets k tenants behind it.

-- `f` is the job's {attempts, tenant, tag} (HMGET); `capped`, whether its tenant has a running cap.
-- `fields` are what the lease writes on the job.
local function new_lease(id, f, worker, machine, token, now, lease_ms, capped)
  local attempt, deadline = (tonumber(f[1]) or 0) + 1, now + lease_ms
  local fields = { 'attempts', attempt, 'worker', worker, 'machine', machine, 'lease', token,
    'leaseDeadline', deadline, 'startedAt', now }
  if capped then
    fields[13], fields[14] = 'capped', '1'
  end
  return { id = id, tenant = f[2], tag = tonumber(f[3]), attempt = attempt, worker = worker, machine = machine,
    now = now, deadline = deadline, capped = capped, fields = fields }
end

-- The job hash as flat field/value strings once leased (status, updatedAt and the lease's fields
-- over what is stored), with 'id' and the job id appended. O(fields).
local function leased_record(Q, L)
  local flat = redis.call('HGETALL', Q.job_prefix .. L.id)
  local fields = L.fields
  local over = { status = 'active', updatedAt = tostring(L.now) }
  for i = 1, #fields, 2 do over[fields[i]] = tostring(fields[i + 1]) end
  for i = 1, #flat, 2 do
    local value = over[flat[i]]
    if value then
      flat[i + 1] = value
      over[flat[i]] = nil
    end
  end
  for field, value in pairs(over) do
    flat[#flat + 1] = field
    flat[#flat + 1] = value
  end
  flat[#flat + 1] = 'id'
  flat[#flat + 1] = L.id
  return flat
end

local function lease_job(Q, L)
  if L.capped then redis.call('HINCRBY', Q.tenant_running, L.tenant, 1) end
  move_status(Q.status_prefix, Q.job_prefix .. L.id, L.id, 'pending', 'active', L.now, L.fields)
  redis.call('ZADD', Q.active, L.deadline, L.id)
  redis.call('SADD', Q.leases_prefix .. L.worker, L.id)
  emit(Q.events, Q.timeline_prefix .. L.id, L.id, L.tenant, 'active', L.now,
    { 'worker', L.worker, 'machine', L.machine, 'attempt', L.attempt })
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
