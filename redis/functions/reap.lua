--[[
reap: the fleet's housekeeping, done by one process at a time: the caller that takes the lock
(absent, or already its own) does the work and holds the lock for three intervals, so it repeats
every interval while the rest of the fleet only asks again at its heartbeat, and another process
takes over within a heartbeat of the holder dying. The work:
1. Promotes delayed jobs whose due time has come (includes/promote_due.lua).
2. Takes back jobs whose lease expired (their worker died or hung: includes/take_back.lua). Each
   is requeued at its original rank with the lost lease counted as a stall, not an attempt, or
   fails with STALLED once it has stalled more than its maxStalls, or ends cancelled if
   cancellation was requested.
3. Prunes registered signatures that have had no pending job for longer than the grace period:
   their spec, compatible classes and exclusions (a signature that returns is registered again),
   examining a bounded batch of them per run.
4. Prunes capability classes with no worker seen for the grace period (a worker that returns
   registers its class again), a bounded batch per run; a class that lives on forgets its workers
   and machines not seen for that long, a bounded batch of machines per class visited.

KEYS[1]  lock     string: the holder's id, expiring three intervals after its last run
KEYS[2..31] the queue keys (includes/queue.lua)

ARGV[1] interval ms
ARGV[2] max jobs to promote, and to reap, in this call
ARGV[3] worker channel prefix
ARGV[4] idle ttl ms
ARGV[5] retention ms for jobs that end here (0 keeps them)
ARGV[6] grace ms: a signature idle, or a class unseen, for longer than this is pruned
ARGV[7] caller id (a worker id; a random one for a one-off call)
ARGV[8] registered signatures, and classes, to examine for pruning in this call
ARGV[9] max stalls of a job that stores none (the default)

Returns {0, requeued, failed, cancelled, promoted, pruned signatures, pruned classes}; {6}
skipped: another process holds the lock.
Events: `pending` (reason `due`) per promoted job; `lease-expired` then `pending`, `failed` or
`cancelled` per reaped job.
Complexity: O(log A + log D + k (log N + c log G) + p c) for A active and D delayed jobs, k jobs
moved (bounded by ARGV[2]) and p signatures examined (ARGV[8]); plus, per class examined (at most
ARGV[8]), O(log W + f + 16 s log W) to forget f dead workers and examine 16 of its machines;
O(1) when skipped.
]]
-- @include "now_ms"
-- @include "queue"
-- @include "promote_due"
-- @include "take_back"
-- @include "split_suffix"
-- @include "sig_models"
-- @include "idle_member"
-- @include "warm_models"
-- @include "int_arg"
-- Walks the registered signatures a batch per run (the cursor lives in the sweep hash under ''):
-- a signature without pending jobs is marked the first time it is met and pruned when met again
-- after the grace period. Pruning one that filled and emptied in between is harmless: a signature
-- is registered again by its next job. While pruned classes are waiting (`dead_classes`), each
-- signature met also forgets them, and a class is forgotten for good once a whole pass has met
-- every signature since it died. Returns how many signatures were pruned. O(b c) for a batch of b.
local function prune_signatures(Q, now, grace_ms, batch)
  local page = redis.call('HSCAN', Q.sigs, redis.call('HGET', Q.sig_sweep, '') or '0', 'COUNT', batch)
  redis.call('HSET', Q.sig_sweep, '', page[1])
  local forgetting = redis.call('EXISTS', Q.dead_classes) == 1
  local pruned = 0
  for i = 1, #page[2], 2 do
    local sig = page[2][i]
    local marked = tonumber(redis.call('HGET', Q.sig_sweep, sig))
    if redis.call('EXISTS', Q.sig_prefix .. sig) == 1 then
      if marked then redis.call('HDEL', Q.sig_sweep, sig) end
      if forgetting then
        local suffixes = redis.call('SMEMBERS', Q.sig_classes_prefix .. sig)
        local models
        for j = 1, #suffixes do
          if redis.call('ZSCORE', Q.dead_classes, (split_suffix(suffixes[j]))) then
            redis.call('SREM', Q.sig_classes_prefix .. sig, suffixes[j])
            redis.call('ZREM', Q.heads_prefix .. suffixes[j], sig)
            -- Its warm indexes too (includes/index_head.lua), which the class's pruning cannot name.
            models = models or sig_models(Q, sig)
            for m = 1, #models do redis.call('ZREM', Q.heads_prefix .. suffixes[j] .. '|' .. models[m], sig) end
          end
        end
      end
    elseif not marked then
      redis.call('HSET', Q.sig_sweep, sig, now)
    elseif now - marked >= grace_ms then
      redis.call('SREM', Q.svc_sigs_prefix .. cjson.decode(page[2][i + 1]).service, sig)
      redis.call('HDEL', Q.sigs, sig)
      redis.call('HDEL', Q.sig_excl, sig)
      redis.call('HDEL', Q.sig_sweep, sig)
      redis.call('DEL', Q.sig_classes_prefix .. sig)
      pruned = pruned + 1
    end
  end
  if page[1] == '0' then
    local passes = redis.call('HINCRBY', Q.sig_sweep, ' passes', 1)
    redis.call('ZREMRANGEBYSCORE', Q.dead_classes, '-inf', passes - 2)
  end
  return pruned
end

-- A live class forgets the workers and machines of it not seen for the grace period (a worker
-- killed without deregistering, a machine scaled away), so its live sets hold the live fleet, not
-- every worker it ever had. Its machines are examined MACHINE_BATCH per visit (cursor under
-- ' machines:<class>' in the sweep hash); a dead worker found there leaves the class's idle sets,
-- its machine's and the warm ones included (includes/warm_models.lua). A machine with no live worker left loses its live set,
-- idle set and idle-class entries; it stays listed while its pinned index holds pending jobs (they
-- wait for it, and the index is deleted with the class), and a worker of it that returns lists it
-- again. O(log W + k + MACHINE_BATCH s log W + d s (1 + m) log W) for W workers, k forgotten,
-- s services, d dead workers found on the machines examined and m warm models of the class.
local MACHINE_BATCH = 16
local function prune_machines(Q, class, services, cutoff)
  local workers_key = Q.class_workers_prefix .. class
  local before = '(' .. int_arg(cutoff)
  redis.call('ZREMRANGEBYSCORE', workers_key, '-inf', before)
  local machines_key = Q.class_machines_prefix .. class
  local field = ' machines:' .. class
  local page = redis.call('SSCAN', machines_key, redis.call('HGET', Q.sig_sweep, field) or '0', 'COUNT', MACHINE_BATCH)
  if page[1] == '0' then redis.call('HDEL', Q.sig_sweep, field) else redis.call('HSET', Q.sig_sweep, field, page[1]) end
  local models
  for _, machine in ipairs(page[2]) do
    local on_machine = workers_key .. '@' .. machine
    -- A dead worker's idle entries under the class (plain, its machine's and warm) go with it: a
    -- wake-up would drop them as it met them, but a warm one is met only by a job preferring its model.
    local dead = redis.call('ZRANGE', on_machine, '-inf', before, 'BYSCORE')
    if #dead > 0 then
      models = models or warm_models(Q, class)
      for _, worker in ipairs(dead) do
        local member = idle_member(worker, machine)
        for _, service in ipairs(services) do
          unregister_idle(Q, class, service, machine, member)
          local idle_key = Q.idle_prefix .. class .. ':' .. service
          for m = 1, #models do redis.call('ZREM', idle_key .. '|' .. models[m], member) end
        end
      end
      redis.call('ZREMRANGEBYSCORE', on_machine, '-inf', before)
    end
    if redis.call('EXISTS', on_machine) == 0 then
      local waiting = false
      for _, service in ipairs(services) do
        local suffix = class .. ':' .. service .. '@' .. machine
        redis.call('SREM', Q.idle_classes_prefix .. service, suffix)
        redis.call('DEL', Q.idle_prefix .. suffix)
        waiting = waiting or redis.call('EXISTS', Q.heads_prefix .. suffix) == 1
      end
      if not waiting then redis.call('SREM', machines_key, machine) end
    end
  end
end

-- Walks the capability classes a batch per run (cursor under ' kinds' in the sweep hash) and prunes
-- those with no worker seen for the grace period: out of their services, their indexes, idle sets
-- and live sets, on every machine they had workers on. Signatures still naming a pruned class
-- forget it as the signature sweep meets them. A worker of a pruned class that returns registers
-- it again. A class that lives on forgets its dead workers and machines (prune_machines).
-- Returns how many classes were pruned. O(b (s m)) for b classes, s services, m machines.
local function prune_classes(Q, now, grace_ms, batch)
  local page = redis.call('HSCAN', Q.classes, redis.call('HGET', Q.sig_sweep, ' kinds') or '0', 'COUNT', batch)
  redis.call('HSET', Q.sig_sweep, ' kinds', page[1])
  local pruned = 0
  for i = 1, #page[2], 2 do
    local class = page[2][i]
    local workers_key = Q.class_workers_prefix .. class
    local last = redis.call('ZRANGE', workers_key, -1, -1, 'WITHSCORES')[2]
    local services = cjson.decode(page[2][i + 1]).services or {}
    if not last or tonumber(last) < now - grace_ms then
      local machines = redis.call('SMEMBERS', Q.class_machines_prefix .. class)
      local models = warm_models(Q, class)
      for _, service in ipairs(services) do
        local suffix = class .. ':' .. service
        redis.call('SREM', Q.svc_classes_prefix .. service, class)
        redis.call('SREM', Q.idle_classes_prefix .. service, suffix)
        redis.call('DEL', Q.heads_prefix .. suffix, Q.idle_prefix .. suffix)
        for _, model in ipairs(models) do
          redis.call('SREM', Q.idle_classes_prefix .. service .. '|' .. model, suffix)
          redis.call('DEL', Q.heads_prefix .. suffix .. '|' .. model, Q.idle_prefix .. suffix .. '|' .. model)
        end
        for _, machine in ipairs(machines) do
          redis.call('SREM', Q.idle_classes_prefix .. service, suffix .. '@' .. machine)
          redis.call('DEL', Q.heads_prefix .. suffix .. '@' .. machine, Q.idle_prefix .. suffix .. '@' .. machine)
        end
      end
      for _, machine in ipairs(machines) do redis.call('DEL', workers_key .. '@' .. machine) end
      redis.call('DEL', workers_key, Q.class_machines_prefix .. class)
      redis.call('HDEL', Q.classes, class)
      redis.call('HDEL', Q.sig_sweep, ' machines:' .. class, warm_models_field(class))
      redis.call('ZADD', Q.dead_classes, tonumber(redis.call('HGET', Q.sig_sweep, ' passes')) or 0, class)
      pruned = pruned + 1
    else
      prune_machines(Q, class, services, now - grace_ms)
    end
  end
  return pruned
end

local function reap(KEYS, ARGV)
  local holder = redis.call('GET', KEYS[1])
  if holder and holder ~= ARGV[7] then return { 6 } end
  redis.call('SET', KEYS[1], ARGV[7], 'PX', 3 * tonumber(ARGV[1]))
  local Q = queue_context(KEYS, 2)
  local now = now_ms()
  local limit, idle_ttl, channel_prefix = tonumber(ARGV[2]), tonumber(ARGV[4]), ARGV[3]
  local promoted = promote_due(Q, now, limit, idle_ttl, channel_prefix)
  local expired = redis.call('ZRANGE', Q.active, '-inf', now, 'BYSCORE', 'LIMIT', 0, limit)
  local counts = { requeued = 0, failed = 0, cancelled = 0 }
  for i = 1, #expired do
    local outcome = take_back(Q, expired[i], 'lease-expired', now, tonumber(ARGV[5]), tonumber(ARGV[9]), idle_ttl, channel_prefix)
    counts[outcome] = counts[outcome] + 1
  end
  local pruned = prune_signatures(Q, now, tonumber(ARGV[6]), tonumber(ARGV[8]))
  local pruned_classes = prune_classes(Q, now, tonumber(ARGV[6]), tonumber(ARGV[8]))
  return { 0, counts.requeued, counts.failed, counts.cancelled, promoted, pruned, pruned_classes }
end
