--[[
complete: records a job's result, if the caller still holds its lease.

KEYS[1] job key
KEYS[2] timeline key
KEYS[3] active         zset job id -> lease deadline
KEYS[4] events
KEYS[5] status prefix

ARGV[1] job id
ARGV[2] lease token
ARGV[3] result JSON
ARGV[4] retention ms for the finished job (0 keeps it)

Returns {0} completed; {1} no such job; {2} lease lost (late result discarded, nothing written).
Events: `completed`.
Complexity: O(log N).
]]
-- @include "now_ms"
-- @include "complete_job"
local function complete(KEYS, ARGV)
  return { complete_job(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[1], ARGV[2], ARGV[3], now_ms(), tonumber(ARGV[4])) }
end
