--[[
service_demand: for each asked service, how many live workers serve it and since when its waiting
work has waited, without looking at pending jobs one by one: a machine's elastic policy asks this
for its few elastic services to decide whether to start one (apps/machine, MACHINE_ELASTIC_SERVICES).
Read-only, safe for FCALL_RO.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] liveness window ms: a worker seen within it counts as live
ARGV[2] b, most signatures to examine for a service no capability class has served
ARGV[3..] services

Returns a JSON string {now, services = [{service, liveWorkers, waitingSince}]} in ARGV order;
waitingSince (absent when nothing waits) is the earliest time a head job became pending among the
heads this function reads: the head of each of the service's class indexes (the job each class
would run next), or, for a service with no class yet, of the first b of its registered signatures.
Signatures pinned to a machine, and those no class of the service can run, are not read.
Events: none (read-only).
Complexity: O(S c (log W + log G + log N)) for S services, c classes serving a service, W workers
of a class, G signatures in a class index and N jobs of a signature; a service with no class,
O(b log N). Independent of the number of pending jobs, tenants and requirement sets.
Flags: no-writes
]]
-- @include "now_ms"
-- @include "queue"
-- @include "pending"
-- @include "sig_queue"
local function head_pending_since(Q, sig)
  local head = sq_head(Q, sig)
  return head and pending_since(Q, head)
end

local function earlier(a, b)
  if a and b then return math.min(a, b) end
  return a or b
end

local function service_demand(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local now = now_ms()
  local live_since = now - tonumber(ARGV[1])
  local budget = tonumber(ARGV[2])
  local out = {}
  for i = 3, #ARGV do
    local service = ARGV[i]
    local live, since = 0, nil
    local classes = redis.call('SMEMBERS', Q.svc_classes_prefix .. service)
    for j = 1, #classes do
      live = live + redis.call('ZCOUNT', Q.class_workers_prefix .. classes[j], live_since, '+inf')
      local top = redis.call('ZRANGE', Q.heads_prefix .. classes[j] .. ':' .. service, 0, 0)
      if top[1] then since = earlier(since, head_pending_since(Q, top[1])) end
    end
    if #classes == 0 then
      local page = redis.call('SSCAN', Q.svc_sigs_prefix .. service, 0, 'COUNT', budget)
      for j = 1, math.min(#page[2], budget) do since = earlier(since, head_pending_since(Q, page[2][j])) end
    end
    out[#out + 1] = { service = service, liveWorkers = live, waitingSince = since }
  end
  return cjson.encode({ now = now, services = out })
end
