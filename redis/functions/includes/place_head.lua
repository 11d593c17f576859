-- Records a signature's current head rank in the index of every capability class able to run it,
-- or removes it from them when its queue emptied. Called whenever a signature's head may have
-- changed; `head_rank` may be passed when the caller knows it. `cache` (optional) keeps each
-- signature's classes for the rest of the call. Returns the head rank, or false.
-- O(c log G) for c compatible classes and G signatures in an index.
local function place_head(Q, sig, head_rank, cache)
  if head_rank == nil then
    local head = redis.call('ZRANGE', Q.sig_prefix .. sig, 0, 0, 'WITHSCORES')
    head_rank = head[2] and tonumber(head[2]) or false
  end
  local suffixes = cache and cache[sig]
  if not suffixes then
    suffixes = redis.call('SMEMBERS', Q.sig_classes_prefix .. sig)
    if cache then cache[sig] = suffixes end
  end
  for i = 1, #suffixes do
    if head_rank then
      redis.call('ZADD', Q.heads_prefix .. suffixes[i], head_rank, sig)
    else
      redis.call('ZREM', Q.heads_prefix .. suffixes[i], sig)
    end
  end
  return head_rank
end
