-- @include "place_head"
-- @include "wake_one"
-- A job of a capped tenant left `active`: frees its slot, and once the tenant is below its cap puts
-- the signatures claims set aside for it (parked, as "<service>|<sig>") back into their indexes
-- and wakes an idle worker for each: the workers that could run them went idle while they were
-- parked. O(1), plus O(p c log G) for p parked signatures when they return (each parking paid for
-- once).
local function unpark(Q, tenant, now, channel_prefix, idle_ttl)
  local parked_key = Q.parked_prefix .. tenant
  local members = redis.call('SMEMBERS', parked_key)
  if #members == 0 then return end
  for i = 1, #members do
    local service, sig = string.match(members[i], '^(.-)|(.*)$')
    if place_head(Q, sig) then wake_one(Q, service, sig, now, idle_ttl, channel_prefix) end
  end
  redis.call('DEL', parked_key)
end

local function release_slot(Q, tenant, now, channel_prefix, idle_ttl)
  local running = redis.call('HINCRBY', Q.tenant_running, tenant, -1)
  if running <= 0 then redis.call('HDEL', Q.tenant_running, tenant) end
  local cap = tonumber(redis.call('HGET', Q.tenant_caps, tenant))
  if cap and running >= cap then return end
  unpark(Q, tenant, now, channel_prefix, idle_ttl)
end
