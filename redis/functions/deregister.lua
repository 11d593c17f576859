--[[
deregister: removes a stopping worker from the idle and live sets, so no submit tries to wake
it and stats stop counting it, and hands back the housekeeping turn if it holds it, so another
worker takes it at its next heartbeat rather than after the turn expires.

KEYS[1]  housekeeping turn (see reap.lua)
KEYS[2..31] the queue keys (includes/queue.lua)

ARGV[1] worker id
ARGV[2] machine id
ARGV[3] capability class
ARGV[4..] the worker's services

Returns {0}.
Events: none.
Complexity: O(S log W) for S services and W workers of the class.
]]
-- @include "queue"
-- @include "idle_member"
local function deregister(KEYS, ARGV)
  local Q = queue_context(KEYS, 2)
  if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
  local worker, machine, class = ARGV[1], ARGV[2], ARGV[3]
  local member = idle_member(worker, machine)
  for i = 4, #ARGV do unregister_idle(Q, class, ARGV[i], machine, member) end
  redis.call('ZREM', Q.class_workers_prefix .. class, worker)
  redis.call('ZREM', Q.class_workers_prefix .. class .. '@' .. machine, worker)
  return { 0 }
end
