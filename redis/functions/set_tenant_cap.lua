--[[
set_tenant_cap: sets or clears a tenant's running cap (tenantcaps). When the tenant is then below
its cap (or has none), the signatures claims parked for it go back into their indexes at once
rather than when its next running job ends. Jobs running when a cap is first set are not counted
against it: the count starts with the claims after it.

KEYS[1..24] the queue keys (includes/queue.lua)

ARGV[1] tenant
ARGV[2] most running jobs (a positive integer), or '' to clear the cap

Returns {0}.
Events: none.
Complexity: O(1), plus O(p c log G) for p parked signatures returned.
]]
-- @include "queue"
-- @include "place_head"
local function set_tenant_cap(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local tenant, cap = ARGV[1], tonumber(ARGV[2])
  if cap then
    redis.call('HSET', Q.tenant_caps, tenant, cap)
  else
    redis.call('HDEL', Q.tenant_caps, tenant)
  end
  local running = tonumber(redis.call('HGET', Q.tenant_running, tenant)) or 0
  if cap and running >= cap then return { 0 } end
  local parked_key = Q.parked_prefix .. tenant
  local sigs = redis.call('SMEMBERS', parked_key)
  for i = 1, #sigs do place_head(Q, sigs[i]) end
  redis.call('DEL', parked_key)
  return { 0 }
end
