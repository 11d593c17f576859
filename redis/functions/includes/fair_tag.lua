-- Start-time fair queueing between the tenants of a service. A job's tag is its tenant's previous
-- tag, or the service's virtual clock if that is later, plus 1024 / the tenant's weight; the
-- clock is the latest tag a claim took. A tenant that floods the queue pushes only its own tags
-- into the future, so another tenant's next job is tagged just after the jobs running now and
-- starts within about one claim per tenant with work, whatever the flood's size. Tags order jobs
-- within a priority level (see submit.lua). O(log T) for T tenants with a tag ahead of the clock.
local function fair_tag(Q, service, tenant)
  local state = redis.call('HMGET', Q.fair_share, 'clock:' .. service, 'weight:' .. tenant)
  local clock = tonumber(state[1]) or 0
  local finish_key = Q.vfinish_prefix .. service
  local last = tonumber(redis.call('ZSCORE', finish_key, tenant)) or clock
  local weight = tonumber(state[2]) or 1
  local tag = math.max(clock, last) + 1024 / weight
  redis.call('ZADD', finish_key, tag, tenant)
  return tag
end
