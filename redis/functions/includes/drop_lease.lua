-- A job leaves its worker's lease index (`leases:<worker>`, which release.lua reads) when the
-- worker no longer holds it: completed, failed, or taken back (includes/take_back.lua). O(1).
local function drop_lease(Q, id, worker)
  if worker then redis.call('SREM', Q.leases_prefix .. worker, id) end
end
