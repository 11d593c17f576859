-- @include "compatible"
-- Wakes exactly one idle worker able to run a job of signature `sig`: one publish per enqueue, so a
-- submit never stampedes every idle worker. Idle entries older than `idle_ttl` belong to workers
-- that stopped re-registering (dead), and are dropped as they are met.
-- O(C + D) for C capability classes of the service and D dead entries skipped.
local function wake_one(svc_classes_prefix, idle_prefix, sigs_key, classes_key, compat_key,
                        channel_prefix, service, sig, now, idle_ttl)
  local classes = redis.call('SMEMBERS', svc_classes_prefix .. service)
  for i = 1, #classes do
    local class = classes[i]
    local idle_key = idle_prefix .. class .. ':' .. service
    while true do
      local head = redis.call('ZRANGE', idle_key, 0, 0, 'WITHSCORES')
      if not head[1] then break end
      if not compatible(sigs_key, classes_key, compat_key, sig, class, false) then break end
      redis.call('ZREM', idle_key, head[1])
      if tonumber(head[2]) >= now - idle_ttl then
        redis.call('PUBLISH', channel_prefix .. head[1], 'wake')
        return head[1]
      end
    end
  end
  return false
end
