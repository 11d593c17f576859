--[[
service_workers: how many live workers serve each of the given services (GET /api/services).
Read-only, safe for FCALL_RO.

KEYS[1..27] the queue keys (includes/queue.lua)

ARGV[1] liveness window ms: a worker seen within it counts as live
ARGV[2..] services

Returns a JSON string {service = live workers} for each service asked about.
Events: none (read-only).
Complexity: O(S C log W) for S services, C capability classes serving each and W workers of a
class; never grows with pending jobs, signatures or tenants.
Flags: no-writes
]]
-- @include "now_ms"
-- @include "queue"
local function service_workers(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local live_since = now_ms() - tonumber(ARGV[1])
  local out = {}
  for s = 2, #ARGV do
    local live = 0
    local classes = redis.call('SMEMBERS', Q.svc_classes_prefix .. ARGV[s])
    for i = 1, #classes do live = live + redis.call('ZCOUNT', Q.class_workers_prefix .. classes[i], live_since, '+inf') end
    out[ARGV[s]] = live
  end
  return cjson.encode(out)
end
