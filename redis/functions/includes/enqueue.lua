-- @include "place_head"
-- @include "register_signature"
-- @include "sig_queue"
-- Puts a job into its signature's pending index at its rank. A signature with pending jobs is
-- always registered, so only a job that finds its queue empty registers it (one HSETNX when
-- known); when the job is the new head, the compatible classes' indexes learn its rank. `spec` is
-- the signature's spec JSON, or a function that makes it (called only when it is needed), or false
-- when the caller registered the signature already.
-- O(log N + c log G).
local function enqueue(Q, job_id, sig, spec, service, rank)
  local placed = sq_add(Q, sig, job_id, rank)
  if placed == 'first' and spec then
    register_signature(Q, sig, type(spec) == 'function' and spec() or spec, service)
  end
  if placed then place_head(Q, sig, rank) end
end
