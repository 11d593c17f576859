--[[
claim: completes the worker's finished jobs, then leases up to N of the best pending jobs it can
run, in priority then FIFO order: one round trip per batch, like a worker's "finish and fetch next".

Matching never scans pending jobs: each of the worker's services keeps its signatures with
pending work ordered by the rank of their head job; each signature is checked against the
worker's capability class (cached by content hash) and the best compatible head is popped.
Ranks share one exact integer scale across indexes (see submit.lua).

Each service comes with an allowance, the most jobs of it this claim may lease (a worker's
per-service cap minus what it already runs): a service whose allowance is spent is passed over
and the rest still fill in rank order. A service with allowance 0 is not read at all.

KEYS[1]  svc heads prefix   + service -> signatures with pending jobs -> head rank
KEYS[2]  sig prefix         + signature -> pending index
KEYS[3]  age prefix         + signature -> pending since
KEYS[4]  sigs               signature -> spec JSON
KEYS[5]  compat             "sig|class" -> 1/0
KEYS[6]  classes            class -> capabilities JSON
KEYS[7]  svc classes prefix + service -> classes
KEYS[8]  idle prefix        + class:service -> idle workers (zset, score = idle since)
KEYS[9]  class workers prefix + class -> live workers (zset, score = last seen)
KEYS[10] job prefix
KEYS[11] timeline prefix
KEYS[12] active             zset job id -> lease deadline
KEYS[13] events
KEYS[14] status prefix

ARGV[1]  worker id
ARGV[2]  machine id
ARGV[3]  capability class (hash of the canonical capabilities)
ARGV[4]  capabilities JSON
ARGV[5]  lease ms
ARGV[6]  max jobs to claim (0 only completes)
ARGV[7]  lease token base; the n-th job claimed gets token "<base>:<n>"
ARGV[8]  retention ms for completed jobs (0 keeps them)
ARGV[9]  S, the number of services
ARGV[10 .. 9+2S]  service, allowance pairs: every service this worker runs (all of them, so a
                  new class is registered under each) and the most jobs of it to claim (>= 0)
ARGV[10+2S ..]    completions: job id, lease token, result JSON triples

Returns {0, jobs, codes}: jobs is an array of flat field/value arrays (the claimed job hashes);
codes has one entry per completion: 0 completed, 1 no such job, 2 lease lost (result discarded).
With no job claimed (and N > 0) the worker is registered idle for each service with a non-zero
allowance, so the next matching submit of one of those wakes it; a worker whose allowance of a
service is spent is not registered for it, so such a submit wakes another worker. A claim that took
jobs unregisters the worker from every service (it claims again on its own when they end).
Events: `completed` per completion, `active` per claimed job.
Complexity: O(S log W + G + c log N + k (G + log N)) for S services, W idle workers of a class,
G signatures with pending jobs of the services with a non-zero allowance, c completions, k jobs
claimed, N jobs in an index; 2 reads and 1 idle-set write per service plus 4 index operations per
claimed job. Independent of the number of pending jobs.
]]
-- @include "now_ms"
-- @include "emit"
-- @include "refresh_head"
-- @include "move_status"
-- @include "compatible"
-- @include "complete_job"
local function claim(KEYS, ARGV)
  local worker, machine, class = ARGV[1], ARGV[2], ARGV[3]
  local lease_ms, max_jobs, token_base = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
  local services_end = 9 + 2 * tonumber(ARGV[9])
  local now = now_ms()

  local codes = {}
  for i = services_end + 1, #ARGV - 2, 3 do
    local id = ARGV[i]
    codes[#codes + 1] = complete_job(KEYS[10] .. id, KEYS[11] .. id, KEYS[12], KEYS[13], KEYS[14], id, ARGV[i + 1],
      ARGV[i + 2], now, tonumber(ARGV[8]))
  end
  if max_jobs == 0 then return { 0, {}, codes } end

  if redis.call('HSETNX', KEYS[6], class, ARGV[4]) == 1 then
    for i = 10, services_end, 2 do redis.call('SADD', KEYS[7] .. ARGV[i], class) end
  end

  -- Candidates: the signatures of this worker's services with pending jobs, with their head's rank
  -- (one read per service), kept if compatible (one cached lookup per service).
  local heads, allowance = {}, {}
  for i = 10, services_end, 2 do
    local service = ARGV[i]
    allowance[service] = tonumber(ARGV[i + 1])
    local flat = allowance[service] > 0 and redis.call('ZRANGE', KEYS[1] .. service, 0, -1, 'WITHSCORES') or {}
    if #flat > 0 then
      local fields = {}
      for j = 1, #flat, 2 do fields[#fields + 1] = flat[j] .. '|' .. class end
      local cached = redis.call('HMGET', KEYS[5], unpack(fields))
      for j = 1, #flat, 2 do
        local sig, known = flat[j], cached[(j + 1) / 2]
        if known == '1' or (not known and compatible(KEYS[4], KEYS[6], KEYS[5], sig, class, false)) then
          heads[#heads + 1] = { sig = sig, service = service, rank = tonumber(flat[j + 1]) }
        end
      end
    end
  end

  local jobs = {}
  while #jobs < max_jobs do
    local best
    for i = 1, #heads do
      local h = heads[i]
      if h.rank and allowance[h.service] > 0 and (not best or h.rank < best.rank) then best = h end
    end
    if not best then break end
    allowance[best.service] = allowance[best.service] - 1

    local popped = redis.call('ZPOPMIN', KEYS[2] .. best.sig)
    local id = popped[1]
    redis.call('ZREM', KEYS[3] .. best.sig, id)
    best.rank = refresh_head(KEYS[2], KEYS[1], best.sig, best.service)

    local job_key = KEYS[10] .. id
    local f = redis.call('HMGET', job_key, 'attempts', 'tenant')
    local attempt = tonumber(f[1]) + 1
    local deadline = now + lease_ms
    move_status(KEYS[14], job_key, id, 'pending', 'active', now, { 'attempts', attempt, 'worker', worker,
      'machine', machine, 'lease', token_base .. ':' .. (#jobs + 1), 'leaseDeadline', deadline, 'startedAt', now })
    redis.call('ZADD', KEYS[12], deadline, id)
    emit(KEYS[13], KEYS[11] .. id, id, f[2], 'active', now, { 'worker', worker, 'machine', machine, 'attempt', attempt })
    jobs[#jobs + 1] = redis.call('HGETALL', job_key)
  end

  -- A zero allowance leaves the service's registration as it is: it may only mean that another
  -- claim in flight holds the service's last slot, and that claim's answer settles it.
  for i = 10, services_end, 2 do
    local idle_key = KEYS[8] .. class .. ':' .. ARGV[i]
    if #jobs > 0 then
      redis.call('ZREM', idle_key, worker)
    elseif tonumber(ARGV[i + 1]) > 0 then
      redis.call('ZADD', idle_key, now, worker)
    end
  end
  redis.call('ZADD', KEYS[9] .. class, now, worker)
  return { 0, jobs, codes }
end
