-- Writes a signature's head rank into one class index `heads:<suffix>` (or removes the signature
-- when `rank` is false) and, for an unpinned suffix, into the class's warm index of each model
-- the signature prefers, `heads:<suffix>|<model>`: the claim of a worker holding that model reads
-- it (claim.lua). Pinned signatures get no warm index: they already name their machine.
-- O((1 + m) log G) for m preferred models (at most 8) and G signatures in an index.
local function index_head(Q, suffix, sig, rank, models)
  local key = Q.heads_prefix .. suffix
  local warm = #models > 0 and not string.find(suffix, '@', 1, true)
  if rank then
    redis.call('ZADD', key, rank, sig)
    if warm then
      for i = 1, #models do redis.call('ZADD', key .. '|' .. models[i], rank, sig) end
    end
  else
    redis.call('ZREM', key, sig)
    if warm then
      for i = 1, #models do redis.call('ZREM', key .. '|' .. models[i], sig) end
    end
  end
end
