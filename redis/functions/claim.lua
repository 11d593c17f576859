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
looks past at most 8 such heads per index in one claim (others of the class take them). A head of
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
allowance (under its class and its class on this machine, and under idle:<class>:<service>|<model>
for each warm model, named in idleclasses:<service>|<model>), so the next matching submit of one of
those wakes it, a worker holding the job's model first; a worker whose allowance of a service is spent is not registered for it, so such a
submit wakes another worker. A claim that took jobs unregisters a worker that may be registered.
Events: `completed` per completion, `active` per claimed job.
Complexity: O(S (1 + W + D) log G + c log N + k (log N + log B + h m log G)) for S services, W (D)
warm (dropped) models the worker passes, G signatures in an index, B pending buckets (the listing,
includes/pending.lua), c completions, k jobs claimed, h classes able to run a claimed job's
signature (hardware kinds: few) and m models it prefers (at most 8); plus at most 8 skipped heads
per index. Independent of the number of pending jobs, of signatures the worker cannot run, of
tenants, of workers and of the models in the fleet.
]]
-- @include "now_ms"
-- @include "queue"
-- @include "emit"
-- @include "place_head"
-- @include "move_status"
-- @include "pending"
-- @include "complete_job"
local MAX_SKIPPED = 8

-- The fields of a popped job that the claim reads, from its HGETALL.
local READ = { tenant = true, tag = true, attempts = true, status = true, worker = true, machine = true, tl = true,
  bucket = true }
local function fields_of(flat)
  local f = {}
  for i = 1, #flat, 2 do
    if READ[flat[i]] then f[flat[i]] = flat[i + 1] end
  end
  return f
end

-- The claimed job as returned: its stored fields with those the claim sets (`fields`, which
-- move_status writes with the status and updatedAt), less its timeline (the broker reads that
-- apart). REPLACED names every field a claim may set.
local REPLACED = { status = true, updatedAt = true, attempts = true, worker = true, machine = true, lease = true,
  leaseDeadline = true, startedAt = true, capped = true, tl = true }
local function claimed_job(stored, fields, now)
  local flat = { 'status', 'active', 'updatedAt', now }
  for i = 1, #stored, 2 do
    if not REPLACED[stored[i]] then
      flat[#flat + 1] = stored[i]
      flat[#flat + 1] = stored[i + 1]
    end
  end
  for i = 1, #fields do flat[#flat + 1] = fields[i] end
  return flat
end

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

  local codes = {}
  for i = completions_start, #ARGV - 2, 3 do
    codes[#codes + 1] = complete_job(Q, ARGV[i], ARGV[i + 1], ARGV[i + 2], now, tonumber(ARGV[7]), channel_prefix, idle_ttl)
  end
  if max_jobs == 0 then return { 0, {}, codes } end

  local checks_exclusions = redis.call('EXISTS', Q.sig_excl) == 1
  local checks_caps = redis.call('EXISTS', Q.tenant_caps) == 1
  local excluded = {}
  local function excludes_me(sig)
    if excluded[sig] == nil then
      excluded[sig] = false
      local list = redis.call('HGET', Q.sig_excl, sig)
      if list then
        for m in string.gmatch(list, '[^\n]+') do
          if m == machine then excluded[sig] = true end
        end
      end
    end
    return excluded[sig]
  end

  -- The indexes to read: per service with an allowance, its class index and its class-on-this-
  -- machine index; each remembers its best usable head (sig, rank) and how many heads it skipped.
  local indexes, allowance, clock, services = {}, {}, {}, {}
  for i = 13, services_end, 2 do
    local service = ARGV[i]
    allowance[service] = tonumber(ARGV[i + 1])
    if allowance[service] > 0 then
      services[#services + 1] = service
      local suffix = class .. ':' .. service
      -- Every field set in the constructor, so the table is sized once.
      indexes[#indexes + 1] = { key = Q.heads_prefix .. suffix, service = service, warm = false, skip = 0, sig = false,
        rank = 0, next = false }
      indexes[#indexes + 1] = { key = Q.heads_prefix .. suffix .. '@' .. machine, service = service, warm = false,
        skip = 0, sig = false, rank = 0, next = false }
      if window > 0 then
        for w = 1, #warm do
          indexes[#indexes + 1] = { key = Q.heads_prefix .. suffix .. '|' .. warm[w], service = service, warm = true,
            skip = 0, sig = false, rank = 0, next = false }
        end
      end
    end
  end
  -- Reads an index's best usable head, and the rank of the one after it (`next`: false when there
  -- is none, nil when unknown) so that a pop whose signature stays ahead of it needs no read of the
  -- index again.
  local function peek(ix)
    ix.sig, ix.next = false, nil
    while ix.skip <= MAX_SKIPPED do
      local e = redis.call('ZRANGE', ix.key, ix.skip, ix.skip + 1, 'WITHSCORES')
      if not e[1] then return end
      if not (checks_exclusions and excludes_me(e[1])) then
        ix.sig, ix.rank = e[1], tonumber(e[2])
        ix.next = e[3] and tonumber(e[4]) or false
        return
      end
      ix.skip = ix.skip + 1
    end
  end
  if #services > 0 then
    local fields = {}
    for i = 1, #services do fields[i] = 'clock:' .. services[i] end
    local clocks = redis.call('HMGET', Q.fair_share, unpack(fields))
    for i = 1, #services do clock[services[i]] = tonumber(clocks[i]) or 0 end
  end
  for i = 1, #indexes do peek(indexes[i]) end

  local jobs, latest_tag, sig_cache = {}, {}, {}
  while #jobs < max_jobs do
    local cold, cold_score, hot, hot_score
    for i = 1, #indexes do
      local ix = indexes[i]
      if ix.sig and allowance[ix.service] > 0 then
        local score = ix.rank - clock[ix.service]
        if ix.warm then
          if not hot or score < hot_score then hot, hot_score = ix, score end
        elseif not cold or score < cold_score then
          cold, cold_score = ix, score
        end
      end
    end
    local best = cold
    if hot and (not cold or hot_score <= cold_score + window) then best = hot end
    if not best then break end

    local sig = best.sig
    local popped = redis.call('ZPOPMIN', Q.sig_prefix .. sig)
    local id = popped[1]
    local job_key = id and Q.job_prefix .. id
    -- The job is read once, before it changes: the claim returns it with the fields it set.
    local stored = id and redis.call('HGETALL', job_key)
    local f = stored and fields_of(stored)
    local cap = f and checks_caps and tonumber(redis.call('HGET', Q.tenant_caps, f.tenant))
    local head_rank
    if not id then
      place_head(Q, sig, nil, sig_cache)
    elseif cap and (tonumber(redis.call('HGET', Q.tenant_running, f.tenant)) or 0) >= cap then
      redis.call('ZADD', Q.sig_prefix .. sig, popped[2], id)
      redis.call('ZREM', best.key, sig)
      redis.call('SADD', Q.parked_prefix .. f.tenant, best.service .. '|' .. sig)
    else
      head_rank = place_head(Q, sig, nil, sig_cache)
      allowance[best.service] = allowance[best.service] - 1
      local attempt = (tonumber(f.attempts) or 0) + 1
      local deadline = now + lease_ms
      local fields = { 'attempts', attempt, 'worker', worker, 'machine', machine,
        'lease', token_base .. ':' .. (#jobs + 1), 'leaseDeadline', deadline, 'startedAt', now }
      if cap then
        redis.call('HINCRBY', Q.tenant_running, f.tenant, 1)
        fields[#fields + 1] = 'capped'
        fields[#fields + 1] = '1'
      end
      local flat = claimed_job(stored, fields, now)
      flat[#flat + 1] = 'id'
      flat[#flat + 1] = id
      jobs[#jobs + 1] = flat
      -- A job claimed before keeps its previous run in its `active` entry (includes/emit.lua).
      local timeline_key = Q.timeline_prefix .. id
      local tl = with_run(timeline_of(timeline_key, f.tl, f.status), f.worker, f.machine, f.attempts)
      fields[#fields + 1] = 'tl'
      fields[#fields + 1] = emit(Q.events, timeline_key, job_key, id, f.tenant, tl, 'active', now,
        { 'worker', worker, 'machine', machine, 'attempt', attempt })
      move_status(Q.status_prefix, job_key, id, 'pending', 'active', now, fields)
      pending_remove(Q, id, f.bucket)
      redis.call('ZADD', Q.active, deadline, id)
      redis.call('SADD', Q.leases_prefix .. worker, id)
      local tag = tonumber(f.tag)
      if tag and tag > (latest_tag[best.service] or clock[best.service]) then latest_tag[best.service] = tag end
    end
    -- Every index whose head was this signature (its class index and its warm ones) learns the
    -- new head: from the rank after it when that stays ahead, else by reading the index again.
    for i = 1, #indexes do
      local ix = indexes[i]
      if ix.sig == sig then
        if head_rank and not checks_exclusions and ix.next ~= nil and (ix.next == false or head_rank <= ix.next) then
          ix.rank = head_rank
        else
          peek(ix)
        end
      end
    end
  end

  for service, tag in pairs(latest_tag) do
    redis.call('HSET', Q.fair_share, 'clock:' .. service, tag)
    -- A tenant whose last tag is behind the clock is tagged from the clock anyway: forget those,
    -- once per 1024 jobs' worth of clock (an entry left behind a while costs only its bytes).
    if math.floor(tag / 1048576) > math.floor(clock[service] / 1048576) then
      redis.call('ZREMRANGEBYSCORE', Q.vfinish_prefix .. service, '-inf', tag)
    end
  end

  -- A claim that found nothing checks that the worker's class is registered: housekeeping prunes a
  -- class no worker was seen in for a while, and its worker must register it again (heartbeat).
  if #jobs == 0 and redis.call('HEXISTS', Q.classes, class) == 0 then return { 7, jobs, codes } end

  -- A zero allowance leaves the service's registration as it is: it may only mean that another
  -- claim in flight holds the service's last slot, and that claim's answer settles it.
  for i = 13, services_end, 2 do
    local service = ARGV[i]
    local suffix = class .. ':' .. service
    local pinned = suffix .. '@' .. machine
    local idle_key = Q.idle_prefix .. suffix
    -- Models the worker no longer holds leave its idle-warm sets whatever this claim did: they are
    -- sent once.
    for d = 1, #dropped do redis.call('ZREM', idle_key .. '|' .. dropped[d], worker) end
    if #jobs > 0 then
      if ARGV[8] == '0' then break end
      redis.call('ZREM', idle_key, worker)
      redis.call('ZREM', Q.idle_prefix .. pinned, worker)
      for w = 1, #warm do redis.call('ZREM', idle_key .. '|' .. warm[w], worker) end
    elseif tonumber(ARGV[i + 1]) > 0 then
      redis.call('ZADD', idle_key, now, worker)
      redis.call('ZADD', Q.idle_prefix .. pinned, now, worker)
      redis.call('SADD', Q.idle_classes_prefix .. service, suffix, pinned)
      for w = 1, #warm do
        redis.call('ZADD', idle_key .. '|' .. warm[w], now, worker)
        redis.call('SADD', Q.idle_classes_prefix .. service .. '|' .. warm[w], suffix)
      end
    end
  end
  return { 0, jobs, codes }
end
