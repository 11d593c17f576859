--[[
reach: how many live workers could run a job of this requirement signature, asked before or after
submitting it (the API's NO_LIVE_WORKER warning and `requireWorker`). When none can, says for each
capability class of the service which requirement excludes it, or that it matches but has no live
worker. Read-only, safe for FCALL_RO.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] liveness window ms: a worker seen within it counts as live
ARGV[2] requirement signature
ARGV[3] its spec JSON {service, tenant, requirements} (as submit takes it)
ARGV[4] most classes to explain when none is live

Returns a JSON string {liveWorkers, classes, excluded = [{class, reason, caps}]}:
classes is how many capability classes can run the job; excluded is empty unless liveWorkers is 0,
and reason is the failed requirement's field (includes/matches.lua `mismatch`) or 'no-live-worker'.
Events: none (read-only).
Complexity: a registered signature with a live worker: O(c (1 + e) log W) for its c able classes,
e machines it excludes and W workers of a class. Otherwise O(C (r + log W)) for the C classes of
the service and r list requirements (checked as register_signature would). Never grows with
pending jobs, signatures, tenants or other services.
Flags: no-writes
]]
-- @include "now_ms"
-- @include "queue"
-- @include "class_match"
-- @include "split_suffix"

-- Live workers of a class that may take a job pinned to `pin` (or anywhere), less those on the
-- excluded machines. O((1 + e) log W).
local function live_in(Q, class, pin, excluded, live_since)
  local base = Q.class_workers_prefix .. class
  local live = redis.call('ZCOUNT', pin and (base .. '@' .. pin) or base, live_since, '+inf')
  if pin then return live end
  for i = 1, #excluded do live = live - redis.call('ZCOUNT', base .. '@' .. excluded[i], live_since, '+inf') end
  return live
end

local function reach(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local live_since = now_ms() - tonumber(ARGV[1])
  local sig, spec_json, explain = ARGV[2], ARGV[3], tonumber(ARGV[4])
  local spec = cjson.decode(spec_json)
  local service = spec.service
  local ex = type(spec.requirements) == 'table' and spec.requirements.exclude
  local excluded = (type(ex) == 'table' and type(ex.machineIds) == 'table') and ex.machineIds or {}
  local pin = strip_machine(spec)

  local able = {}
  if redis.call('HEXISTS', Q.sigs, sig) == 1 then
    local suffixes = redis.call('SMEMBERS', Q.sig_classes_prefix .. sig)
    for i = 1, #suffixes do able[#able + 1] = (split_suffix(suffixes[i])) end
  else
    local classes = redis.call('SMEMBERS', Q.svc_classes_prefix .. service)
    for i = 1, #classes do
      local caps = redis.call('HGET', Q.classes, classes[i])
      if caps and matches(spec, cjson.decode(caps)) then able[#able + 1] = classes[i] end
    end
  end
  local live = 0
  for i = 1, #able do live = live + live_in(Q, able[i], pin, excluded, live_since) end

  local out = { liveWorkers = live, classes = #able, excluded = {} }
  if live > 0 then return cjson.encode(out) end
  local classes = redis.call('SMEMBERS', Q.svc_classes_prefix .. service)
  for i = 1, math.min(#classes, explain) do
    local caps_json = redis.call('HGET', Q.classes, classes[i])
    if caps_json then
      local caps = cjson.decode(caps_json)
      local reason = mismatch(spec, caps)
      if not reason then
        -- Machines are no part of a class: a class with live workers, none where the job may run,
        -- is excluded by the job's machine pin or exclusion.
        local anywhere = redis.call('ZCOUNT', Q.class_workers_prefix .. classes[i], live_since, '+inf')
        reason = anywhere == 0 and 'no-live-worker' or (pin and 'machineId' or 'exclude.machineIds')
      end
      caps.services = nil
      out.excluded[#out.excluded + 1] = { class = classes[i], reason = reason, caps = caps }
    end
  end
  return cjson.encode(out)
end
