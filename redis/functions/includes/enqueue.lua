-- @include "place_head"
-- @include "register_signature"
-- Puts a job into its signature's pending index at its rank. A signature with pending jobs is
-- always registered, so only a job that finds its queue empty registers it (one HSETNX when
-- known); when the job is the new head, the compatible classes' indexes learn its rank. `spec` is
-- the signature's spec JSON, or a function that makes it (called only when it is needed).
-- O(log N + c log G).
local function enqueue(Q, job_id, sig, spec, service, rank)
  local key = Q.sig_prefix .. sig
  local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if not head[1] then
    register_signature(Q, sig, type(spec) == 'function' and spec() or spec, service)
  end
  redis.call('ZADD', key, rank, job_id)
  if not head[1] or rank < tonumber(head[2]) then place_head(Q, sig, rank) end
end
