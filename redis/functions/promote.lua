--[[
promote: moves delayed jobs whose due time has come back to their pending index, at their
original rank, waking one idle worker for each. (`reap` does this too, once per interval across
the fleet; this function is for a caller that wants it done now.)

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] max jobs to promote in this call
ARGV[2] worker channel prefix
ARGV[3] idle ttl ms

Returns {0, promoted}.
Events: `pending` (reason `due`) per job.
Complexity: O(log D + k (log N + c log G)) for D delayed jobs and k promoted.
]]
-- @include "now_ms"
-- @include "queue"
-- @include "promote_due"
local function promote(KEYS, ARGV)
  return { 0, promote_due(queue_context(KEYS, 1), now_ms(), tonumber(ARGV[1]), tonumber(ARGV[3]), ARGV[2]) }
end
