-- Server time in milliseconds. Every process in the fleet compares leases and due times against
-- this one clock, so skew between machines never expires a healthy lease.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
