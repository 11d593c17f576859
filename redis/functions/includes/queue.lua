-- The queue context: the keys every function that moves jobs into or out of `pending` (or out of
-- `active`) passes, in this order from KEYS[first] (Keys: functions/keys-for.ts `queueKeys`).
local QUEUE_KEYS = {
  'job_prefix',          -- + id -> job hash
  'timeline_prefix',     -- + id -> job timeline
  'events',              -- global event stream
  'status_prefix',       -- + status -> listing index
  'active',              -- job id -> lease deadline (zset)
  'delayed',             -- job id -> due time (zset)
  'services',            -- set of services that ever had a registered signature
  'sigs',                -- registered signature -> spec JSON {service, tenant, requirements}
  'sig_prefix',          -- + sig -> pending jobs of the signature (zset, score = rank)
  'svc_sigs_prefix',     -- + service -> registered signatures of the service (set)
  'sig_classes_prefix',  -- + sig -> index suffixes "<class>:<service>[@<machine>]" able to run it (set)
  'heads_prefix',        -- + suffix -> compatible signatures with pending jobs -> head rank (zset)
  'sig_sweep',           -- pruning: '' -> cursor over sigs; sig -> when first found with no pending job
  'sig_excl',            -- sig -> excluded machine ids, one per line (only signatures that exclude)
  'classes',             -- class -> capabilities JSON
  'svc_classes_prefix',  -- + service -> classes serving it (set)
  'class_workers_prefix',-- + class[@machine] -> live workers -> last seen (zset)
  'idle_prefix',         -- + suffix -> idle workers -> idle since (zset)
  'idle_classes_prefix', -- + service -> "<class>:<service>" suffixes with an idle worker (set)
  'fair_share',          -- 'clock:' .. service -> virtual time; 'weight:' .. tenant -> weight
  'vfinish_prefix',      -- + service -> tenant -> virtual finish tag of its latest job (zset)
  'tenant_caps',         -- tenant -> most running jobs
  'tenant_running',      -- capped tenant -> running jobs
  'parked_prefix',       -- + tenant -> signatures set aside while the tenant is at its cap (set)
}
local QUEUE_KEY_COUNT = #QUEUE_KEYS

local function queue_context(KEYS, first)
  local Q = {}
  for i = 1, QUEUE_KEY_COUNT do Q[QUEUE_KEYS[i]] = KEYS[first + i - 1] end
  return Q
end
