--[[
heartbeat: marks a worker live (for stats) and keeps its idle registrations fresh, so an idle
worker costs Redis this call and nothing else. It also tells a waiting worker to claim when a
wake-up may have gone astray: it is no longer registered idle for a service it waits on (a submit
woke it and the publish was lost), or its class's index holds work for such a service (a wake-up
went to a worker that died before its registration expired). So no job waits longer than a
heartbeat for an idle worker able to run it. It registers the worker's capability class the first
time the class is seen: the class joins its services, then learns the
registered signatures it can run, a bounded batch per call (the caller repeats the call with the
returned cursor until it is '0'), so a new class never blocks Redis for long however many
signatures are registered. A worker claims once its class's index is built.

KEYS[1..30] the queue keys (includes/queue.lua)

ARGV[1] worker id
ARGV[2] machine id
ARGV[3] capability class
ARGV[4] capabilities JSON (the class's canonical capabilities)
ARGV[5] build cursor: '' on a plain heartbeat, else the cursor the previous call returned
ARGV[6] most signatures to examine in this call
ARGV[7] S, the number of services
ARGV[8 .. 7+S] services
ARGV[8+S ..] the services the worker is waiting on, registered idle

Returns {0, cursor, claim}: cursor '0' when the class's index is complete, else the cursor to call
again with; claim, how many waited-on services the worker should claim now (see above).
Events: none.
Complexity: O(s log W) for s services and W idle workers of a class; building, O(b (c + log N))
for b signatures examined (ARGV[6]), plus O(m log G) per signature for its m preferred models
(warm indexes, includes/index_head.lua).
]]
-- @include "now_ms"
-- @include "queue"
-- @include "class_match"
-- @include "index_head"
-- @include "sig_queue"
-- @include "spec_models"
-- @include "idle_member"
local function heartbeat(KEYS, ARGV)
  local Q = queue_context(KEYS, 1)
  local worker, machine, class = ARGV[1], ARGV[2], ARGV[3]
  local now = now_ms()
  redis.call('ZADD', Q.class_workers_prefix .. class, now, worker)
  redis.call('ZADD', Q.class_workers_prefix .. class .. '@' .. machine, now, worker)
  redis.call('SADD', Q.class_machines_prefix .. class, machine)
  local services_end = 7 + tonumber(ARGV[7])
  local claim = 0
  local member = idle_member(worker, machine)
  for i = services_end + 1, #ARGV do
    -- A wake-up through either registration (class, or class on this machine) removed that one; a
    -- push removed both.
    local suffix = class .. ':' .. ARGV[i]
    local pinned = suffix .. '@' .. machine
    if not (redis.call('ZSCORE', Q.idle_prefix .. suffix, member) and redis.call('ZSCORE', Q.idle_prefix .. pinned, member)) then
      claim = claim + 1
    elseif redis.call('EXISTS', Q.heads_prefix .. suffix, Q.heads_prefix .. pinned) > 0 then
      claim = claim + 1
    else
      redis.call('ZADD', Q.idle_prefix .. suffix, now, member)
      redis.call('ZADD', Q.idle_prefix .. pinned, now, member)
    end
  end

  local cursor = ARGV[5]
  if redis.call('HSETNX', Q.classes, class, ARGV[4]) == 1 then
    redis.call('ZREM', Q.dead_classes, class)
    for i = 8, services_end do redis.call('SADD', Q.svc_classes_prefix .. ARGV[i], class) end
    cursor = '8:0'
  end
  if cursor == '' or cursor == '0' then return { 0, '0', claim } end

  local caps = cjson.decode(ARGV[4])
  local arg, scan = string.match(cursor, '^(%d+):(%d+)$')
  arg = tonumber(arg)
  local budget = tonumber(ARGV[6])
  while arg <= services_end and budget > 0 do
    local service = ARGV[arg]
    local page = redis.call('SSCAN', Q.svc_sigs_prefix .. service, scan, 'COUNT', budget)
    scan = page[1]
    for _, sig in ipairs(page[2]) do
      local spec = redis.call('HGET', Q.sigs, sig)
      if spec then
        local decoded = cjson.decode(spec)
        local suffix = admit_class(Q, sig, decoded, strip_machine(decoded), service, class, caps)
        if suffix then
          local head, rank = sq_head(Q, sig)
          if head then index_head(Q, suffix, sig, rank, spec_models(decoded)) end
        end
      end
    end
    budget = budget - math.max(1, #page[2])
    if scan == '0' then arg = arg + 1 end
  end
  if arg > services_end then return { 0, '0', claim } end
  return { 0, arg .. ':' .. scan, claim }
end
