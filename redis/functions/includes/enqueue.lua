-- @include "place_head"
-- Puts a job into its signature's pending index at its rank; when it became the signature's head,
-- the compatible classes' indexes learn the new head rank. O(log N + c log G).
local function enqueue(Q, job_id, sig, rank)
  local key = Q.sig_prefix .. sig
  redis.call('ZADD', key, rank, job_id)
  if redis.call('ZRANGE', key, 0, 0)[1] == job_id then
    place_head(Q, sig, rank)
    redis.call('ZREM', Q.sig_idle, sig)
  end
end
