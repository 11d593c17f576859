-- Re-reads a signature's head after a removal and records it in the service's index of heads,
-- dropping the signature when its index emptied. Returns the new head's rank, or nil. O(log N + log S).
local function refresh_head(sig_prefix, svc_heads_prefix, sig, service)
  local head = redis.call('ZRANGE', sig_prefix .. sig, 0, 0, 'WITHSCORES')
  if head[1] then
    redis.call('ZADD', svc_heads_prefix .. service, 'XX', head[2], sig)
    return tonumber(head[2])
  end
  redis.call('ZREM', svc_heads_prefix .. service, sig)
  return nil
end
