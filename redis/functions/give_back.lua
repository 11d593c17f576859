--[[
give_back: a worker hands back a job it was pushed (includes/push_job.lua) but has no free slot
for: a claim of its own was in flight, it is stopping, or its allowance of the service is spent.
The job never started, so neither an attempt nor a stall is counted: it returns to its signature
at its original rank (fair-share tag kept), the indexes learn it and an idle worker able to run it
is woken (includes/requeue.lua), or it ends cancelled if cancellation was requested meanwhile.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] job id
ARGV[2] lease token
ARGV[3] retention ms for a job that ends here (cancelled; 0 keeps it)
ARGV[4] worker channel prefix (the returned job wakes an idle worker)
ARGV[5] idle ttl ms

Returns {0, 'requeued'} | {0, 'cancelled'}; {1} no such job; {2} lease lost (nothing written).
Events: `lease-released` (reason `given-back`: it closes the attempt the push opened, as monitors
fold attempts), then `pending` (reason `given-back`) or `cancelled`.
Complexity: O(log N + c log G + min(c, i)) (requeue), plus a capped tenant's parked work returning
(includes/release_slot.lua).
]]
-- @include "now_ms"
-- @include "queue"
-- @include "check_lease"
-- @include "end_lease"
-- @include "requeue"
local function give_back(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local id = ARGV[1]
  local code = check_lease(Q.job_prefix .. id, ARGV[2])
  if code ~= 0 then return { code } end
  local now = now_ms()
  local f, tl = end_lease(Q, id, 'lease-released', 'given-back', now, ARGV[4], tonumber(ARGV[5]))
  if f[6] == '1' then
    end_cancelled(Q, id, f[1], tl, now, tonumber(ARGV[3]))
    return { 0, 'cancelled' }
  end
  redis.call('HSET', Q.job_prefix .. id, 'attempts', math.max(0, (tonumber(f[3]) or 1) - 1), 'tl', tl)
  requeue(Q, id, 'active', now, 'given-back', tonumber(ARGV[5]), ARGV[4])
  return { 0, 'requeued' }
end
