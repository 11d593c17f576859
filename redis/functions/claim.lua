--[[
claim: completes the worker's finished jobs, then leases up to N of the best pending jobs it can
run, in priority then fair-share order: one round trip per batch, like a worker's "finish and
fetch next".

Matching never scans: each capability class keeps, per service, an index of the signatures it can
run that have pending jobs, scored by their head job's rank (heads:<class>:<service>, and
heads:<class>:<service>@<machine> for signatures pinned to a machine). A claim reads the top of
at most two indexes per service and pops the best head; incompatible pending work is in none of
them and costs nothing. Ranks of different services are compared relative to each service's
fair-share clock, so one busy service cannot shut another out of a worker that runs both.

A signature that excludes machines stays in its class's index; a worker on an excluded machine
looks past at most 8 such heads per index in one claim (others of the class take them). Heads are
read (includes/read_heads.lua) and each job leased (includes/lease_job.lua) exactly as a submit's
push at wake reads and leases them (includes/push_job.lua), so both take the same job. A head of
a tenant at its running cap (tenantcaps) is parked: taken out of this index until the tenant has
a free slot again (includes/release_slot.lua), so a capped tenant's backlog is never rescanned.

Each service comes with an allowance, the most jobs of it this claim may lease (a worker's
per-service cap minus what it already runs): a service whose allowance is spent is passed over
and the rest still fill in rank order. A service with allowance 0 is not read at all.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1]  worker id
ARGV[2]  machine id
ARGV[3]  capability class (hash of the canonical capabilities, machine aside)
ARGV[4]  lease ms
ARGV[5]  max jobs to claim (0 only completes)
ARGV[6]  lease token base; the n-th job claimed gets token "<base>:<n>"
ARGV[7]  retention ms for completed jobs (0 keeps them)
ARGV[8]  '1' if the worker may be registered idle (its last claim found nothing), else '0'
ARGV[9]  worker channel prefix (a capped tenant's returned work wakes an idle worker)
ARGV[10] idle ttl ms
ARGV[11] warm window: how far (in rank) a warm head may trail the best cold one and still be taken
         first; 0 reads no warm index
ARGV[12] S, the number of services
ARGV[13 .. 12+2S] service, allowance pairs: every service this worker runs and the most jobs of
                  it to claim (>= 0)
then     W, and W models the worker holds warm (the fast-changing warm set: not part of its class)
then     D, and D models it held warm before and no longer does (its idle-warm entries are dropped)
then     completions: job id, lease token, result JSON triples

Warm-model routing: a signature whose jobs prefer models is also kept in its classes' warm indexes
heads:<class>:<service>|<model> (includes/index_head.lua). Per service the claim also reads the
top of the warm index of each model the worker holds, and takes the best warm head instead of the
best cold one when it trails it by at most the window: a soft preference that reorders, never
excludes. What may pass a cold head is bounded by the window, so nothing starves, and the window
is below one priority level (broker options), so priority still wins.

Returns {0, jobs, codes}, or {7, {}, codes} when nothing was claimed because the worker's class is
not registered (pruned by housekeeping: the worker heartbeats, which registers it, and claims
again). jobs is an array of flat field/value arrays (the claimed job hashes as the claim leaves
them, less their timeline field `tl`, with their id appended: each job is read once, by one HGETALL
before it changes);
codes has one entry per completion: 0 completed, 1 no such job, 2 lease lost (result discarded).
With no job claimed (and N > 0) the worker is registered idle for each service with a non-zero
allowance, as "<worker> <machine>" (includes/idle_member.lua) (under its class and its class on this machine, and under idle:<class>:<service>|<model>
for each warm model, named in idleclasses:<service>|<model>), so the next matching submit of one of
those wakes it, a worker holding the job's model first; a worker whose allowance of a service is spent is not registered for it, so such a
submit wakes another worker. A claim that took jobs unregisters a worker that may be registered.
Events: `completed` per completion, `active` per claimed job.
Writes: what every completion and lease adds to or takes from the shared indexes (the lease index,
the worker's lease set, the `completed` index, pending buckets) is written once per key for the
whole call (includes/index_writes.lua), not once per job.
Complexity: O(S (1 + W + D) log G + c log N + k (log N + log B + h m log G)) for S services, W (D)
warm (dropped) models the worker passes, G signatures in an index, B pending buckets (the listing,
includes/pending.lua), c completions, k jobs claimed, h classes able to run a claimed job's
signature (hardware kinds: few) and m models it prefers (at most 8); plus at most 8 skipped heads
per index. Independent of the number of pending jobs, of signatures the worker cannot run, of
tenants, of workers and of the models in the fleet.
]]
-- @include "now_ms"
-- @include "queue"
-- @include "place_head"
-- @include "sig_queue"
-- @include "complete_job"
-- @include "read_heads"
-- @include "lease_job"
-- @include "idle_member"
-- @include "int_arg"
-- @include "warm_models"
-- @include "index_writes"
local function claim(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local worker, machine, class = ARGV[1], ARGV[2], ARGV[3]
  local lease_ms, max_jobs, token_base = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
  local services_end = 12 + 2 * tonumber(ARGV[12])
  local channel_prefix, idle_ttl, window = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
  local now = now_ms()
  local warm, dropped = {}, {}
  local at = services_end + 1
  for i = 1, tonumber(ARGV[at]) do warm[i] = ARGV[at + i] end
  at = at + #warm + 1
  for i = 1, tonumber(ARGV[at]) do dropped[i] = ARGV[at + i] end
  local completions_start = at + #dropped + 1

  -- Completions and leases write the shared lease, status and pending indexes once per key at the
  -- end (includes/index_writes.lua): nothing below reads those keys.
  local W = index_batch()
  local codes = {}
  for i = completions_start, #ARGV - 2, 3 do
    codes[#codes + 1] = complete_job(Q, ARGV[i], ARGV[i + 1], ARGV[i + 2], now, tonumber(ARGV[7]), channel_prefix, idle_ttl, W)
  end
  if max_jobs == 0 then
    flush_index_writes(W)
    return { 0, {}, codes }
  end

  local excludes = machine_exclusions(Q, machine)
  local checks_caps = redis.call('EXISTS', Q.tenant_caps) == 1

  -- The indexes to read: per service with an allowance, its class index and its class-on-this-
  -- machine index (and its warm index of each model the worker holds).
  local indexes, allowance, clock, services = {}, {}, {}, {}
  for i = 13, services_end, 2 do
    local service = ARGV[i]
    allowance[service] = tonumber(ARGV[i + 1])
    if allowance[service] > 0 then
      services[#services + 1] = service
      local suffix = class .. ':' .. service
      indexes[#indexes + 1] = head_index(Q.heads_prefix .. suffix, service, false)
      indexes[#indexes + 1] = head_index(Q.heads_prefix .. suffix .. '@' .. machine, service, false)
      if window > 0 then
        for w = 1, #warm do
          indexes[#indexes + 1] = head_index(Q.heads_prefix .. suffix .. '|' .. warm[w], service, true)
        end
      end
    end
  end
  if #services > 0 then
    local fields = {}
    for i = 1, #services do fields[i] = 'clock:' .. services[i] end
    local clocks = redis.call('HMGET', Q.fair_share, unpack(fields))
    for i = 1, #services do clock[services[i]] = tonumber(clocks[i]) or 0 end
  end
  for i = 1, #indexes do peek_head(indexes[i], excludes) end

  -- first_bucket: per signature popped, its head's bucket (sq_pop), so that the next pop of it in
  -- this call reads no bucket index.
  local jobs, latest_tag, sig_cache, first_bucket = {}, {}, {}, {}
  while #jobs < max_jobs do
    local best = pick_head(indexes, clock, allowance, window)
    if not best then break end

    local sig = best.sig
    local id, rank, next_rank, head_bucket = sq_pop(Q, sig, first_bucket[sig])
    first_bucket[sig] = head_bucket
    local stored, f
    if id then stored, f = read_job(Q, id) end
    local cap = f and checks_caps and tonumber(redis.call('HGET', Q.tenant_caps, f.tenant))
    local head_rank
    if not id then
      place_head(Q, sig, false, sig_cache)
    elseif cap and (tonumber(redis.call('HGET', Q.tenant_running, f.tenant)) or 0) >= cap then
      sq_add(Q, sig, id, rank)
      first_bucket[sig] = nil
      redis.call('ZREM', best.key, sig)
      redis.call('SADD', Q.parked_prefix .. f.tenant, best.service .. '|' .. sig)
    else
      head_rank = place_head(Q, sig, next_rank, sig_cache)
      allowance[best.service] = allowance[best.service] - 1
      local L = new_lease(id, stored, f, worker, machine, token_base .. ':' .. (#jobs + 1), now, lease_ms, cap and true or false)
      jobs[#jobs + 1] = L.record
      lease_job(Q, L, W)
      if L.tag and L.tag > (latest_tag[best.service] or clock[best.service]) then latest_tag[best.service] = L.tag end
    end
    -- Every index whose head was this signature (its class index and its warm ones) learns the
    -- new head, when there is a next pick to make: from the rank after it when that stays ahead,
    -- else by reading the index again.
    if #jobs == max_jobs then break end
    for i = 1, #indexes do
      local ix = indexes[i]
      if ix.sig == sig then
        if head_rank and not excludes and ix.next ~= nil and (ix.next == false or head_rank <= ix.next) then
          ix.rank = head_rank
        else
          peek_head(ix, excludes)
        end
      end
    end
  end

  for service, tag in pairs(latest_tag) do advance_clock(Q, service, tag, clock[service]) end
  flush_index_writes(W)

  -- A claim that found nothing checks that the worker's class is registered: housekeeping prunes a
  -- class no worker was seen in for a while, and its worker must register it again (heartbeat).
  if #jobs == 0 and redis.call('HEXISTS', Q.classes, class) == 0 then return { 7, jobs, codes } end

  -- A zero allowance leaves the service's registration as it is: it may only mean that another
  -- claim in flight holds the service's last slot, and that claim's answer settles it.
  local member, now_arg = idle_member(worker, machine), int_arg(now)
  if #jobs == 0 and #warm > 0 then note_warm_models(Q, class, warm) end
  for i = 13, services_end, 2 do
    local service = ARGV[i]
    local suffix = class .. ':' .. service
    local pinned = suffix .. '@' .. machine
    local idle_key = Q.idle_prefix .. suffix
    -- Models the worker no longer holds leave its idle-warm sets whatever this claim did: they are
    -- sent once.
    for d = 1, #dropped do redis.call('ZREM', idle_key .. '|' .. dropped[d], member) end
    if #jobs > 0 then
      if ARGV[8] == '0' then break end
      unregister_idle(Q, class, service, machine, member)
      for w = 1, #warm do redis.call('ZREM', idle_key .. '|' .. warm[w], member) end
    elseif tonumber(ARGV[i + 1]) > 0 then
      redis.call('ZADD', idle_key, now_arg, member)
      redis.call('ZADD', Q.idle_prefix .. pinned, now_arg, member)
      redis.call('SADD', Q.idle_classes_prefix .. service, suffix, pinned)
      for w = 1, #warm do
        redis.call('ZADD', idle_key .. '|' .. warm[w], now_arg, member)
        redis.call('SADD', Q.idle_classes_prefix .. service .. '|' .. warm[w], suffix)
      end
    end
  end
  return { 0, jobs, codes }
end
