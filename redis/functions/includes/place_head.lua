-- Records a signature's current head rank in the index of every capability class able to run it,
-- or removes it from them when its queue emptied. Called whenever a signature's head may have
-- changed; `head_rank` may be passed when the caller knows it. Returns the head rank, or false.
-- O(c log G) for c compatible classes and G signatures in an index.
local function place_head(Q, sig, head_rank)
  if head_rank == nil then
    local head = redis.call('ZRANGE', Q.sig_prefix .. sig, 0, 0, 'WITHSCORES')
    head_rank = head[2] and tonumber(head[2]) or false
  end
  local suffixes = redis.call('SMEMBERS', Q.sig_classes_prefix .. sig)
  for i = 1, #suffixes do
    if head_rank then
      redis.call('ZADD', Q.heads_prefix .. suffixes[i], head_rank, sig)
    else
      redis.call('ZREM', Q.heads_prefix .. suffixes[i], sig)
    end
  end
  return head_rank
end
