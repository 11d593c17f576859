-- @include "split_suffix"
-- Wakes exactly one idle worker able to run a job of signature `sig`: one publish per enqueue, so a
-- submit never stampedes every idle worker. Only classes with an idle worker are looked at: the
-- walk is over the smaller of the signature's compatible classes and the service's idle classes,
-- so a busy fleet costs O(1) however many classes it has. An idle worker is registered under its
-- class's suffix and its class-on-machine suffix, so a pinned signature wakes only a worker of its
-- machine, and a job that excludes machines passes over idle workers on them. Idle entries older
-- than `idle_ttl` belong to workers that stopped re-registering (dead) and are dropped as they are
-- met. O(min(c, i) + D + x) for c compatible class suffixes, i idle classes of the service, D dead
-- entries dropped and x idle workers on excluded machines passed over.
local function wake_from(Q, suffix, now, idle_ttl, channel_prefix, excluded)
  local idle_key = Q.idle_prefix .. suffix
  local offset = 0
  while true do
    local head = redis.call('ZRANGE', idle_key, offset, offset, 'WITHSCORES')
    if not head[1] then
      if offset == 0 then
        local _, service = split_suffix(suffix)
        redis.call('SREM', Q.idle_classes_prefix .. service, suffix)
      end
      return false
    end
    local worker = head[1]
    if tonumber(head[2]) < now - idle_ttl then
      redis.call('ZREM', idle_key, worker)
    else
      local skip = false
      if excluded then
        -- A worker on an excluded machine is also registered under its class-on-machine suffix.
        for m in string.gmatch(excluded, '[^\n]+') do
          if redis.call('ZSCORE', idle_key .. '@' .. m, worker) then skip = true end
        end
      end
      if not skip then
        redis.call('ZREM', idle_key, worker)
        redis.call('PUBLISH', channel_prefix .. worker, 'wake')
        return worker
      end
      offset = offset + 1
    end
  end
end

local function wake_one(Q, service, sig, now, idle_ttl, channel_prefix)
  local idle_classes = Q.idle_classes_prefix .. service
  local idle_count = redis.call('SCARD', idle_classes)
  if idle_count == 0 then return false end
  local sig_classes = Q.sig_classes_prefix .. sig
  local candidates
  if idle_count < redis.call('SCARD', sig_classes) then
    candidates = {}
    local idle = redis.call('SMEMBERS', idle_classes)
    for i = 1, #idle do
      if redis.call('SISMEMBER', sig_classes, idle[i]) == 1 then candidates[#candidates + 1] = idle[i] end
    end
  else
    candidates = redis.call('SMEMBERS', sig_classes)
  end
  local excluded = #candidates > 0 and redis.call('HGET', Q.sig_excl, sig) or nil
  for i = 1, #candidates do
    local woken = wake_from(Q, candidates[i], now, idle_ttl, channel_prefix, excluded)
    if woken then return woken end
  end
  return false
end
