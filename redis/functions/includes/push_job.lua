-- @include "read_heads"
-- @include "lease_job"
-- @include "place_head"
-- @include "sig_queue"
-- @include "idle_member"
-- The worker leaves its idle registrations for all its services, as after a claim that took jobs,
-- and the service's fair-share clock moves to the leased job's tag.
local function after_push(Q, class, service, machine, member, tag)
  local clock = tonumber(redis.call('HGET', Q.fair_share, 'clock:' .. service)) or 0
  if tag and tag > clock then advance_clock(Q, service, tag, clock) end
  local caps = redis.call('HGET', Q.classes, class)
  local services = caps and cjson.decode(caps).services or { service }
  for i = 1, #services do unregister_idle(Q, class, services[i], machine, member) end
end

-- The fresh job as a head of the worker's cold indexes, and of its warm one when it has one.
local function offer_fresh(indexes, fresh, service, warm)
  local n = #indexes
  indexes[n + 1] = head_index(false, service, false)
  if warm then indexes[n + 2] = head_index(false, service, true) end
  for i = n + 1, #indexes do indexes[i].sig, indexes[i].rank, indexes[i].fresh = fresh.sig, fresh.rank, true end
end

-- Push at wake: a submit that wakes an idle worker leases it the job its claim would take and
-- sends the job on the worker's channel, so the worker runs it on receipt, with no claim round
-- trip. The job is what a claim of that worker would take for the service (claim.lua): the best
-- head of its class's index and its machine's, heads excluding its machine passed over (at most 8
-- per index), and the head of the warm index of the model it was woken through when that trails
-- the best cold one by at most the warm window. A head whose tenant is at its running cap is parked
-- as a claim parks it, and the worker gets a plain wake-up instead (its claim takes what is next).
--
-- The lease is written only once the message reached a subscriber (PUBLISH's receiver count): with
-- none, nothing is written and 0 is returned. Receiver counts are exact on one server (or
-- Sentinel), not on Cluster, where a subscriber may sit on another node: the broker turns pushes
-- off there. A client pattern-subscribed to the worker channels counts as a receiver of every
-- push: a job pushed to a dead worker's fresh entry then waits for its lease to expire. A pushed
-- worker leaves its idle registrations for all its services, as after a claim that took jobs; it
-- claims again for the slots it has left.
--
-- The message is "job:" then, in MessagePack (Redis' cmsgpack, C: a tenth of the cost of building
-- it in Lua), the lease token and an array of the leased job's record as field, value pairs
-- (includes/lease_job.lua `new_lease`), which the worker parses and validates
-- (packages/core/src/worker-signals.ts). A plain wake-up is "wake".
--
-- The submitted job itself (`fresh`, from submit.lua: not yet written, queued or listed) competes
-- as a head of every index the worker reads: the submit's signature is one the worker's class can
-- run, and one it was woken for the warm model of prefers that model. Ties go to the job already
-- pending (it is older). When the fresh job wins it is leased as it is written (`fresh.leased` is
-- set): it never enters its signature's queue, the class indexes or the pending listing, which
-- would cost ~20 commands to write and take out again in this same call. When it loses, the
-- caller queues it as any submit does.
--
-- Returns the receiver count. O(log G) per head read (at most 3 indexes, 9 heads each), plus on a
-- push O(log N + log B + c (1 + m) log G) to lease (place_head; none for the fresh job), O(S log W)
-- to unregister the worker's S services, and the record's size.
local function push_job(Q, class, service, worker, machine, member, model, now, channel_prefix, push, fresh)
  local channel = channel_prefix .. worker
  local suffix = class .. ':' .. service
  local excludes = machine_exclusions(Q, machine)
  local warm = model and push.window > 0
  local indexes = { head_index(Q.heads_prefix .. suffix, service, false),
    head_index(Q.heads_prefix .. suffix .. '@' .. machine, service, false) }
  if warm then indexes[3] = head_index(Q.heads_prefix .. suffix .. '|' .. model, service, true) end
  for i = 1, #indexes do peek_head(indexes[i], excludes) end
  if fresh then offer_fresh(indexes, fresh, service, warm) end
  local best = pick_head(indexes, { [service] = 0 }, { [service] = 1 }, push.window)
  if not best then return redis.call('PUBLISH', channel, 'wake') end

  local L, sig, bucket
  if best.fresh then
    L = new_lease(fresh.id, fresh.stored, fresh.f, worker, machine, push.token, now, push.lease_ms, false)
  else
    sig = best.sig
    local id, _
    id, _, bucket = sq_peek(Q, sig)
    if not id then
      place_head(Q, sig, false)
      return redis.call('PUBLISH', channel, 'wake')
    end
    local stored, f = read_job(Q, id)
    local cap = tonumber(redis.call('HGET', Q.tenant_caps, f.tenant))
    if cap and (tonumber(redis.call('HGET', Q.tenant_running, f.tenant)) or 0) >= cap then
      redis.call('ZREM', best.key, sig)
      redis.call('SADD', Q.parked_prefix .. f.tenant, service .. '|' .. sig)
      return redis.call('PUBLISH', channel, 'wake')
    end
    L = new_lease(id, stored, f, worker, machine, push.token, now, push.lease_ms, cap ~= nil)
  end

  local received = redis.call('PUBLISH', channel, 'job:' .. cmsgpack.pack(push.token, L.record))
  if received == 0 then return 0 end
  if best.fresh then
    fresh.leased = true
    L.fresh = fresh.stored
  else
    local _, _, next_rank = sq_pop(Q, sig, bucket)
    place_head(Q, sig, next_rank)
  end
  lease_job(Q, L)
  after_push(Q, class, service, machine, member, L.tag)
  return received
end
