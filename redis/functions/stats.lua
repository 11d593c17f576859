--[[
stats: queue depth per requirement signature, how long its oldest job has waited, and how many
live workers could run it (0 means nothing in the fleet can: the job stays visible here, pending,
rather than being handed to a worker that cannot run it). Read-only, safe for FCALL_RO.

KEYS[1] sigs                signature -> spec JSON
KEYS[2] sig prefix
KEYS[3] age prefix
KEYS[4] svc classes prefix
KEYS[5] classes
KEYS[6] class workers prefix  + class -> live workers (score = last seen)
KEYS[7] compat
KEYS[8] status prefix

ARGV[1] liveness window ms: a worker seen within it counts as live
ARGV[2..] statuses to count

Returns a JSON string {now, queues = [{sig, spec, depth, oldestPendingSince, liveWorkers}],
counts = {status = n}}; signatures with no pending jobs are omitted.
Events: none (read-only).
Complexity: O(S * C) for S known signatures and C classes of their services.
Flags: no-writes
]]
-- @include "now_ms"
-- @include "compatible"
local function stats(KEYS, ARGV)
  local now = now_ms()
  local live_since = now - tonumber(ARGV[1])
  local queues = {}
  local sigs = redis.call('HGETALL', KEYS[1])
  for i = 1, #sigs, 2 do
    local sig, spec_json = sigs[i], sigs[i + 1]
    local depth = redis.call('ZCARD', KEYS[2] .. sig)
    if depth > 0 then
      local spec = cjson.decode(spec_json)
      local oldest = redis.call('ZRANGE', KEYS[3] .. sig, 0, 0, 'WITHSCORES')
      local live = 0
      local classes = redis.call('SMEMBERS', KEYS[4] .. spec.service)
      for j = 1, #classes do
        if compatible(KEYS[1], KEYS[5], KEYS[7], sig, classes[j], true) then
          live = live + redis.call('ZCOUNT', KEYS[6] .. classes[j], live_since, '+inf')
        end
      end
      queues[#queues + 1] = { sig = sig, spec = spec, depth = depth,
        oldestPendingSince = tonumber(oldest[2]), liveWorkers = live }
    end
  end
  local counts = {}
  for i = 2, #ARGV do counts[ARGV[i]] = redis.call('ZCARD', KEYS[8] .. ARGV[i]) end
  return cjson.encode({ now = now, queues = queues, counts = counts })
end
