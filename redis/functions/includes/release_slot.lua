-- @include "place_head"
-- A job of a capped tenant left `active`: frees its slot, and once the tenant is below its cap puts
-- the signatures claims set aside for it (parked) back into their indexes. O(1), plus
-- O(p c log G) for p parked signatures when they return (each parking paid for once).
local function release_slot(Q, tenant)
  local running = redis.call('HINCRBY', Q.tenant_running, tenant, -1)
  if running <= 0 then redis.call('HDEL', Q.tenant_running, tenant) end
  local cap = tonumber(redis.call('HGET', Q.tenant_caps, tenant))
  if cap and running >= cap then return end
  local parked_key = Q.parked_prefix .. tenant
  local sigs = redis.call('SMEMBERS', parked_key)
  if #sigs == 0 then return end
  for i = 1, #sigs do place_head(Q, sigs[i]) end
  redis.call('DEL', parked_key)
end
