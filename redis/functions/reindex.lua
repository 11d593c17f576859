--[[
reindex: brings pending jobs written by the previous library (conveyor_v2: one queue index per
service, ranks by enqueue time, no fair-share tags) into this library's indexes, a batch per
call, so an upgrade of a live Redis loses no queued job. Jobs are tagged in the order they were
queued, so they keep their order among themselves and run before work submitted after the
upgrade. Jobs that already carry a tag are left alone, which makes the walk safe to repeat and to
run from several processes at once. When the walk is done the layout marker is set and the
previous library's registries are deleted. Upgrade with the previous version's processes stopped:
jobs they queue after the walk are not moved. (Delayed and active jobs of the previous
library are tagged when they return to pending: includes/requeue.lua.)

KEYS[1]  layout   string: '3' once the namespace is in this layout; while walking, the score
                  (pending since) the walk has reached
KEYS[2]  the previous library's compatibility cache (hash), deleted at the end
KEYS[3]  the previous library's signatures (hash), deleted at the end
KEYS[4]  the previous library's classes (hash), deleted at the end
KEYS[5..31] the queue keys (includes/queue.lua)

ARGV[1] most pending jobs to examine in this call
ARGV[2] priority weight (see submit.lua)

Returns {0, moved, done}: done is 1 once the namespace is in this layout.
Events: none (the jobs stay pending; only their place in the indexes moves).
Complexity: O(b (log N + c log G)) for b jobs examined (ARGV[1]); O(1) once done.
]]
-- @include "queue"
-- @include "fair_tag"
-- @include "register_signature"
-- @include "place_head"
local function reindex(KEYS, ARGV)
  local Q = queue_context(KEYS, 5)
  local state = redis.call('GET', KEYS[1])
  if state == '3' then return { 0, 0, 1 } end
  local from = tonumber(state) or 0
  local batch = tonumber(ARGV[1])
  local page = redis.call('ZRANGE', Q.status_prefix .. 'pending', from, '+inf', 'BYSCORE', 'LIMIT', 0, batch, 'WITHSCORES')
  local moved, last = 0, from
  for i = 1, #page, 2 do
    local id = page[i]
    last = tonumber(page[i + 1])
    local job_key = Q.job_prefix .. id
    local f = redis.call('HMGET', job_key, 'tag', 'sig', 'service', 'tenant', 'requirements', 'priority')
    if not f[1] and f[2] then
      local tag = fair_tag(Q, f[3], f[4])
      local rank = tag - (tonumber(f[6]) or 0) * tonumber(ARGV[2]) * 1024
      redis.call('HSET', job_key, 'tag', tag, 'rank', rank)
      -- The signature's queue may still hold other jobs of the previous library, so it is
      -- registered here rather than on finding its queue empty (includes/enqueue.lua).
      register_signature(Q, f[2], job_spec_json(f[3], f[4], f[5]), f[3])
      redis.call('ZADD', Q.sig_prefix .. f[2], rank, id)
      place_head(Q, f[2])
      moved = moved + 1
    end
  end
  if #page < 2 * batch then
    redis.call('SET', KEYS[1], '3')
    redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
    return { 0, moved, 1 }
  end
  -- Jobs that entered pending in the same millisecond as the page's last one are examined again
  -- (they are tagged now, so it costs a read); a page all of one millisecond moves past it.
  redis.call('SET', KEYS[1], last == from and last + 1 or last)
  return { 0, moved, 0 }
end
