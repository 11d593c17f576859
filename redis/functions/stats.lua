--[[
stats: queue depth per requirement signature, how long its head job has waited, and how many
live workers could run it (0 means nothing in the fleet can: the job stays visible here, pending,
rather than being handed to a worker that cannot run it). Read-only, safe for FCALL_RO.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] liveness window ms: a worker seen within it counts as live
ARGV[2..] statuses to count

Returns a JSON string {now, queues = [{sig, spec, depth, oldestPendingSince, liveWorkers}],
counts = {status = n}}; signatures with no pending jobs are omitted. oldestPendingSince is when
the signature's head job (the next to run) became pending. The pending count is the sum of the
signature queues' depths (every pending job is in exactly one), read here anyway: the pending
listing (includes/pending.lua) keeps no count of its own.
Events: none (read-only).
Complexity: O(G c + K) for G registered signatures (those with pending jobs, and those idle for
less than the pruning grace period), c classes able to run each, and K rank buckets of their
queues (a depth is the sum of its buckets' sizes: includes/sig_queue.lua): a bucket holds up to 128
jobs of one tenant, fewer where a signature's jobs are spread over many rank ranges (about 13 in
the broker bench's mix), so K grows with the pending jobs. Never signatures long gone.
Flags: no-writes
]]
-- @include "now_ms"
-- @include "queue"
-- @include "split_suffix"
-- @include "pending"
-- @include "sig_queue"
local function stats(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local now = now_ms()
  local live_since = now - tonumber(ARGV[1])
  local queues, pending = {}, 0
  local services = redis.call('SMEMBERS', Q.services)
  for s = 1, #services do
    local sigs = redis.call('SMEMBERS', Q.svc_sigs_prefix .. services[s])
    for i = 1, #sigs do
      local sig = sigs[i]
      local depth = sq_depth(Q, sig)
      pending = pending + depth
      local spec = depth > 0 and redis.call('HGET', Q.sigs, sig)
      if spec then
        local since = pending_since(Q, (sq_head(Q, sig)))
        local live = 0
        local suffixes = redis.call('SMEMBERS', Q.sig_classes_prefix .. sig)
        for j = 1, #suffixes do
          local class, _, machine = split_suffix(suffixes[j])
          local key = Q.class_workers_prefix .. class .. (machine and ('@' .. machine) or '')
          live = live + redis.call('ZCOUNT', key, live_since, '+inf')
        end
        queues[#queues + 1] = { sig = sig, spec = cjson.decode(spec), depth = depth,
          oldestPendingSince = since, liveWorkers = live }
      end
    end
  end
  local counts = {}
  local own = { active = Q.active, delayed = Q.delayed }
  for i = 2, #ARGV do
    local status = ARGV[i]
    counts[status] = status == 'pending' and pending or redis.call('ZCARD', own[status] or (Q.status_prefix .. status))
  end
  return cjson.encode({ now = now, queues = queues, counts = counts })
end
