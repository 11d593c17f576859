--[[
renew: extends the leases of a batch of jobs in one round trip.

KEYS[1] active      zset job id -> lease deadline
KEYS[2] job prefix  + job id -> job hash

ARGV[1] lease ms
ARGV[2..] job id, lease token pairs

Returns {0, codes}: one code per pair, in order: 0 renewed; 5 renewed but cancellation was
requested; 1 no such job; 2 lease lost (the worker must abandon the job).
Events: none (renewals are bookkeeping, not state changes).
Complexity: O(k log N) for k pairs.
]]
-- @include "now_ms"
-- @include "check_lease"
local function renew(KEYS, ARGV)
  local deadline = now_ms() + tonumber(ARGV[1])
  local codes = {}
  for i = 2, #ARGV - 1, 2 do
    local id, job_key = ARGV[i], KEYS[2] .. ARGV[i]
    local code, f = check_lease(job_key, ARGV[i + 1])
    if code == 0 then
      redis.call('HSET', job_key, 'leaseDeadline', deadline)
      redis.call('ZADD', KEYS[1], deadline, id)
      if f[4] == '1' then code = 5 end
    end
    codes[#codes + 1] = code
  end
  return { 0, codes }
end
