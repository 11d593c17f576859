-- @include "sig_models"
-- @include "index_head"
-- @include "sig_queue"
-- Records a signature's current head rank in the index of every capability class able to run it
-- (and in their warm indexes of the models it prefers: includes/index_head.lua), or removes it from
-- them when its queue emptied. Called whenever a signature's head may have changed; `head_rank`
-- may be passed when the caller knows it. `cache` (optional) keeps each signature's classes and
-- preferred models for the rest of the call. Returns the head rank, or false.
-- O(c (1 + m) log G) for c compatible classes, m preferred models and G signatures in an index.
local function place_head(Q, sig, head_rank, cache)
  if head_rank == nil then
    local _, rank = sq_head(Q, sig)
    head_rank = rank or false
  end
  local entry = cache and cache[sig]
  if not entry then
    entry = { redis.call('SMEMBERS', Q.sig_classes_prefix .. sig), sig_models(Q, sig) }
    if cache then cache[sig] = entry end
  end
  local suffixes, models = entry[1], entry[2]
  for i = 1, #suffixes do index_head(Q, suffixes[i], sig, head_rank, models) end
  return head_rank
end
