-- @include "split_suffix"
-- @include "sig_models"
-- @include "idle_member"
-- @include "push_job"
-- Wakes exactly one idle worker able to run a job of signature `sig`: one wake-up per enqueue, so a
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
--
-- With `push` ({token, lease_ms, window}: a submit, on a server whose receiver counts are exact),
-- the worker woken is leased the job its claim would take and sent it (includes/push_job.lua), and
-- a worker that nobody listens for (PUBLISH reached no one: it died, or stopped) is dropped and the
-- walk goes on to the next, so the job goes to a live worker or stays pending. `fresh` (a submit's
-- own job before it is queued) is offered to the pushed worker as push_job.lua says. Without it (requeues,
-- returned capped work, Cluster) the wake-up is a plain 'wake' and the worker claims.
-- O(m (min(c, i_m) + D_m) + min(c, i) + D + x) for m preferred models (at most 8), c compatible
-- class suffixes, i (i_m) idle (warm) classes of the service, D dead, stale or unheard entries
-- dropped and x idle workers on excluded machines passed over; plus one push (push_job.lua).
-- Whether the worker of an idle entry is on one of the `excluded` machines (one per line): an entry
-- of the previous library names no machine, and the worker's class-on-machine registrations tell.
local function on_excluded(Q, idle_key, member, machine, excluded)
  for m in string.gmatch(excluded, '[^\n]+') do
    if machine == m or (not machine and redis.call('ZSCORE', idle_key .. '@' .. m, member)) then return true end
  end
  return false
end

local function wake_from(Q, suffix, now, idle_ttl, channel_prefix, excluded, model, push, fresh)
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
    local member = head[1]
    -- A warm entry counts by its worker's plain registration (`a and b or c` would fall back to the
    -- warm entry's own score when the plain one is gone).
    local since
    if model then since = tonumber(redis.call('ZSCORE', idle_key, member)) else since = tonumber(head[2]) end
    local worker, machine = idle_parts(member)
    if not since or since < now - idle_ttl then
      redis.call('ZREM', walk_key, member)
    elseif excluded and on_excluded(Q, idle_key, member, machine, excluded) then
      offset = offset + 1
    else
      redis.call('ZREM', idle_key, member)
      if model then redis.call('ZREM', walk_key, member) end
      if not push then
        redis.call('PUBLISH', channel_prefix .. worker, 'wake')
        return worker
      end
      local received
      if machine then
        local class, service = split_suffix(suffix)
        received = push_job(Q, class, service, worker, machine, member, model, now, channel_prefix, push, fresh)
      else
        received = redis.call('PUBLISH', channel_prefix .. worker, 'wake')
      end
      if received > 0 then return worker end
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

-- Whether any worker is registered idle for `service`: a busy fleet costs a wake-up this one read.
local function any_idle(Q, service)
  return redis.call('EXISTS', Q.idle_classes_prefix .. service) == 1
end

-- wake_one, for a caller that has seen any_idle(Q, service) hold in this call.
local function wake_idle(Q, service, sig, now, idle_ttl, channel_prefix, push, fresh)
  local idle_classes = Q.idle_classes_prefix .. service
  local sig_classes = Q.sig_classes_prefix .. sig
  local excluded
  local function wake_any(candidates, model)
    if #candidates == 0 then return false end
    if excluded == nil then excluded = redis.call('HGET', Q.sig_excl, sig) or false end
    for i = 1, #candidates do
      local woken = wake_from(Q, candidates[i], now, idle_ttl, channel_prefix, excluded, model, push, fresh)
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

local function wake_one(Q, service, sig, now, idle_ttl, channel_prefix, push, fresh)
  return any_idle(Q, service) and wake_idle(Q, service, sig, now, idle_ttl, channel_prefix, push, fresh)
end
