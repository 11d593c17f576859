-- @include "int_arg"
-- Reading the head indexes the way a claiming worker does (claim.lua, and a submit's push at wake:
-- includes/push_job.lua), so both take the same job.
--
-- A signature that excludes machines stays in its classes' indexes: a worker on an excluded
-- machine looks past at most MAX_SKIPPED such heads per index (others of the class take them).
local MAX_SKIPPED = 8

-- A predicate telling whether a signature excludes `machine` (each signature read once per call),
-- or false when no signature excludes any machine (then nothing is read). O(1) per signature.
local function machine_exclusions(Q, machine)
  if redis.call('EXISTS', Q.sig_excl) == 0 then return false end
  local excluded = {}
  return function(sig)
    if excluded[sig] == nil then
      excluded[sig] = false
      local list = redis.call('HGET', Q.sig_excl, sig)
      if list then
        for m in string.gmatch(list, '[^\n]+') do
          if m == machine then excluded[sig] = true end
        end
      end
    end
    return excluded[sig]
  end
end

-- One index to read: its best usable head (sig, rank) once peeked, the rank of the head after it,
-- and how many heads it skipped; `fresh` marks a submit's own job offered as a head
-- (includes/push_job.lua), with no key. Every field is set in the constructor, so the table is
-- sized once.
local function head_index(key, service, warm)
  return { key = key, service = service, warm = warm, skip = 0, sig = false, rank = 0, next = false, fresh = false }
end

-- Reads an index's best usable head, and the rank of the one after it (`next`: false when there
-- is none, nil when unknown), so that a pop whose signature stays ahead of it needs no read of the
-- index again. `excludes` is machine_exclusions' predicate (or false). O(log G) per head read.
local function peek_head(ix, excludes)
  ix.sig, ix.next = false, nil
  while ix.skip <= MAX_SKIPPED do
    local e = redis.call('ZRANGE', ix.key, int_arg(ix.skip), int_arg(ix.skip + 1), 'WITHSCORES')
    if not e[1] then return end
    if not (excludes and excludes(e[1])) then
      ix.sig, ix.rank = e[1], tonumber(e[2])
      ix.next = e[3] and tonumber(e[4]) or false
      return
    end
    ix.skip = ix.skip + 1
  end
end

-- The index whose head to take: the best cold head of a service with allowance left, ranks compared
-- relative to each service's fair-share clock, unless the best warm head trails it by at most
-- `window` (a soft preference: what may pass a cold head is bounded by the window, so nothing
-- starves). Returns the index, or nil. O(number of indexes).
local function pick_head(indexes, clock, allowance, window)
  local cold, cold_score, hot, hot_score
  for i = 1, #indexes do
    local ix = indexes[i]
    if ix.sig and allowance[ix.service] > 0 then
      local score = ix.rank - clock[ix.service]
      if ix.warm then
        if not hot or score < hot_score then hot, hot_score = ix, score end
      elseif not cold or score < cold_score then
        cold, cold_score = ix, score
      end
    end
  end
  if hot and (not cold or hot_score <= cold_score + window) then return hot end
  return cold
end
