-- The queue context: the keys every function that moves jobs into or out of `pending` (or out of
-- `active`) passes, in this order from KEYS[first] (Keys: functions/keys-for.ts `queueKeys`).
-- Built with one table constructor: Lua sizes it once, where filling an empty table key by key
-- rehashes it five times, which cost more than all the commands of a short call.
local function queue_context(KEYS, first)
  local k = first - 1
  return {
    job_prefix = KEYS[k + 1],            -- + id -> job hash
    timeline_prefix = KEYS[k + 2],       -- + id -> job timeline
    events = KEYS[k + 3],                -- global event stream
    status_prefix = KEYS[k + 4],         -- + status -> listing index of a finished status
    active = KEYS[k + 5],                -- job id -> lease deadline (zset)
    delayed = KEYS[k + 6],               -- job id -> due time (zset)
    services = KEYS[k + 7],              -- set of services that ever had a registered signature
    sigs = KEYS[k + 8],                  -- registered signature -> spec JSON {service, tenant, requirements}
    sig_prefix = KEYS[k + 9],            -- + sig -> pending jobs of the signature (zset, score = rank)
    svc_sigs_prefix = KEYS[k + 10],      -- + service -> registered signatures of the service (set)
    sig_classes_prefix = KEYS[k + 11],   -- + sig -> index suffixes "<class>:<service>[@<machine>]" able to run it (set)
    heads_prefix = KEYS[k + 12],         -- + suffix -> compatible signatures with pending jobs -> head rank (zset)
    sig_sweep = KEYS[k + 13],            -- housekeeping (reap.lua): cursors, sig -> when first found with no pending job, class warm models
    sig_excl = KEYS[k + 14],             -- sig -> excluded machine ids, one per line (only signatures that exclude)
    classes = KEYS[k + 15],              -- class -> capabilities JSON
    svc_classes_prefix = KEYS[k + 16],   -- + service -> classes serving it (set)
    class_workers_prefix = KEYS[k + 17], -- + class[@machine] -> live workers -> last seen (zset)
    idle_prefix = KEYS[k + 18],          -- + suffix -> idle workers -> idle since (zset)
    idle_classes_prefix = KEYS[k + 19],  -- + service -> "<class>:<service>" suffixes with an idle worker (set)
    fair_share = KEYS[k + 20],           -- 'clock:' .. service -> virtual time; 'weight:' .. tenant -> weight
    vfinish_prefix = KEYS[k + 21],       -- + service -> tenant -> virtual finish tag of its latest job (zset)
    tenant_caps = KEYS[k + 22],          -- tenant -> most running jobs
    tenant_running = KEYS[k + 23],       -- capped tenant -> running jobs
    parked_prefix = KEYS[k + 24],        -- + tenant -> signatures set aside while the tenant is at its cap (set)
    class_machines_prefix = KEYS[k + 25],-- + class -> machines it has had workers on (set)
    dead_classes = KEYS[k + 26],         -- pruned class -> sweep pass it died in (zset)
    leases_prefix = KEYS[k + 27],        -- + worker id -> ids of the jobs the worker holds a lease on (set)
    seq = KEYS[k + 28],                  -- counter behind job ids and pending sequence numbers (includes/pending.lua)
    pending_prefix = KEYS[k + 29],       -- + bucket number -> a bucket of the pending listing (zset, listpack)
    pending_buckets = KEYS[k + 30],      -- non-empty pending bucket -> latest score added to it (zset)
  }
end
