-- @include "index_writes"
-- A job leaves its worker's lease index (`leases:<worker>`, which release.lua reads) when the
-- worker no longer holds it: completed, failed, or taken back (includes/take_back.lua); at the
-- flush of the batch `W` when given (includes/index_writes.lua). O(1).
local function drop_lease(Q, id, worker, W)
  if worker then index_write(W, 'SREM', Q.leases_prefix .. worker, id) end
end
