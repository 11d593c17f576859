--[[
complete: records a job's result, if the caller still holds its lease.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] job id
ARGV[2] lease token
ARGV[3] result JSON
ARGV[4] retention ms for the finished job (0 keeps it)
ARGV[5] worker channel prefix (a capped tenant's returned work wakes an idle worker)
ARGV[6] idle ttl ms

Returns {0} completed; {1} no such job; {2} lease lost (late result discarded, nothing written).
Events: `completed`.
Complexity: O(log N); a capped tenant's first free slot also returns its parked signatures
(includes/release_slot.lua).
]]
-- @include "now_ms"
-- @include "queue"
-- @include "complete_job"
local function complete(KEYS, ARGV)
  return { complete_job(queue_context(KEYS, 1), ARGV[1], ARGV[2], ARGV[3], now_ms(), tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])) }
end
