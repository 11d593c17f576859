-- @include "split_suffix"
-- @include "sig_models"
-- Wakes exactly one idle worker able to run a job of signature `sig`: one publish per enqueue, so a
-- submit never stampedes every idle worker. Only classes with an idle worker are looked at: the
-- walk is over the smaller of the signature's compatible classes and the service's idle classes,
-- so a busy fleet costs O(1) however many classes it has. An idle worker is registered under its
-- class's suffix and its class-on-machine suffix, so a pinned signature wakes only a worker of its
-- machine, and a job that excludes machines passes over idle workers on them. Idle entries older
-- than `idle_ttl` belong to workers that stopped re-registering (dead) and are dropped as they are
-- met.
--
-- Warm first: an idle worker also registers under `idle:<suffix>|<model>` for each model it holds
-- warm (claim.lua), and the service's `idleclasses:<service>|<model>` names those suffixes. For
-- each model the signature prefers, the same walk runs over the warm sets before the plain one, so
-- an idle worker holding the job's model is woken before a cold one. A warm entry is only a hint:
-- it counts while its worker is still in the plain idle set (and fresh there), and is dropped
-- otherwise.
-- O(m (min(c, i_m) + D_m) + min(c, i) + D + x) for m preferred models (at most 8), c compatible
-- class suffixes, i (i_m) idle (warm) classes of the service, D dead or stale entries dropped and
-- x idle workers on excluded machines passed over.
local function wake_from(Q, suffix, now, idle_ttl, channel_prefix, excluded, model)
  local idle_key = Q.idle_prefix .. suffix
  local walk_key = model and idle_key .. '|' .. model or idle_key
  local offset = 0
  while true do
    local head = redis.call('ZRANGE', walk_key, offset, offset, 'WITHSCORES')
    if not head[1] then
      if offset == 0 then
        local _, service = split_suffix(suffix)
        redis.call('SREM', Q.idle_classes_prefix .. service .. (model and '|' .. model or ''), suffix)
      end
      return false
    end
    local worker = head[1]
    local since = tonumber(model and redis.call('ZSCORE', idle_key, worker) or head[2])
    if not since or since < now - idle_ttl then
      redis.call('ZREM', walk_key, worker)
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
        if model then redis.call('ZREM', walk_key, worker) end
        redis.call('PUBLISH', channel_prefix .. worker, 'wake')
        return worker
      end
      offset = offset + 1
    end
  end
end

-- The suffixes of `idle_classes` (a set of suffixes with an idle worker) able to run the
-- signature: the smaller of the two sets is walked.
local function idle_candidates(idle_classes, sig_classes)
  local idle_count = redis.call('SCARD', idle_classes)
  if idle_count == 0 then return {} end
  if idle_count < redis.call('SCARD', sig_classes) then
    local candidates = {}
    local idle = redis.call('SMEMBERS', idle_classes)
    for i = 1, #idle do
      if redis.call('SISMEMBER', sig_classes, idle[i]) == 1 then candidates[#candidates + 1] = idle[i] end
    end
    return candidates
  end
  return redis.call('SMEMBERS', sig_classes)
end

local function wake_one(Q, service, sig, now, idle_ttl, channel_prefix)
  local idle_classes = Q.idle_classes_prefix .. service
  if redis.call('EXISTS', idle_classes) == 0 then return false end
  local sig_classes = Q.sig_classes_prefix .. sig
  local excluded
  local function wake_any(candidates, model)
    if #candidates == 0 then return false end
    if excluded == nil then excluded = redis.call('HGET', Q.sig_excl, sig) or false end
    for i = 1, #candidates do
      local woken = wake_from(Q, candidates[i], now, idle_ttl, channel_prefix, excluded, model)
      if woken then return woken end
    end
    return false
  end
  local models = sig_models(Q, sig)
  for i = 1, #models do
    local woken = wake_any(idle_candidates(idle_classes .. '|' .. models[i], sig_classes), models[i])
    if woken then return woken end
  end
  return wake_any(idle_candidates(idle_classes, sig_classes), nil)
end
