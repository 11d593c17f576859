--[[
release: a worker starting under the id of a dead predecessor (PM2 restarts a crashed worker under
the same id within a second or two) gives back the predecessor's leases at once, instead of their
jobs waiting for the leases to expire. Each job is taken back as reap takes back an expired lease
(includes/take_back.lua): requeued at its original rank, its lost lease counted as a stall, not a
failed attempt. Jobs are found through the worker's own lease index (`leases:<worker>`, kept by
claim, complete, fail and take_back), so the cost is that worker's leases, never the fleet's
active jobs. Only a worker that holds no lease yet may call it: a job is given back only while it
is active under this worker id.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] worker id
ARGV[2] retention ms for jobs that end here (0 keeps them)
ARGV[3] max stalls of a job that stores none (the default)
ARGV[4] worker channel prefix (a requeued job wakes an idle worker)
ARGV[5] idle ttl ms

Returns {0, requeued, failed, cancelled}.
Events: `lease-released` then `pending` (reason `lease-released`), `failed` (STALLED) or
`cancelled`, per job given back.
Complexity: O(l (log N + c log G)) for l leases of this worker (at most its concurrency).
]]
-- @include "now_ms"
-- @include "queue"
-- @include "take_back"
local function release(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local worker = ARGV[1]
  local leases_key = Q.leases_prefix .. worker
  local ids = redis.call('SMEMBERS', leases_key)
  local now = now_ms()
  local counts = { requeued = 0, failed = 0, cancelled = 0 }
  for i = 1, #ids do
    local f = redis.call('HMGET', Q.job_prefix .. ids[i], 'status', 'worker')
    if f[1] == 'active' and f[2] == worker then
      local outcome = take_back(Q, ids[i], 'lease-released', now, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5]), ARGV[4])
      counts[outcome] = counts[outcome] + 1
    end
  end
  redis.call('DEL', leases_key)
  return { 0, counts.requeued, counts.failed, counts.cancelled }
end
