--[[
set_tenant_cap: sets or clears a tenant's running cap (tenantcaps). When the tenant is then below
its cap (or has none), the signatures claims parked for it go back into their indexes at once
rather than when its next running job ends. Jobs running when a cap is first set are not counted
against it: the count starts with the claims after it.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] tenant
ARGV[2] most running jobs (a positive integer), or '' to clear the cap
ARGV[3] worker channel prefix (to wake idle workers for returned work)
ARGV[4] idle ttl ms

Returns {0}.
Events: none.
Complexity: O(1), plus O(p c log G) for p parked signatures returned.
]]
-- @include "now_ms"
-- @include "queue"
-- @include "release_slot"
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
  unpark(Q, tenant, now_ms(), ARGV[3], tonumber(ARGV[4]))
  return { 0 }
end
