--[[
deregister: removes a stopping worker from the idle and live sets, so no submit tries to wake
it and stats stop counting it.

KEYS[1] idle prefix          + class -> idle workers
KEYS[2] class workers prefix + class -> live workers

ARGV[1] worker id
ARGV[2] capability class

Returns {0}.
Events: none.
Complexity: O(log W).
]]
local function deregister(KEYS, ARGV)
  redis.call('ZREM', KEYS[1] .. ARGV[2], ARGV[1])
  redis.call('ZREM', KEYS[2] .. ARGV[2], ARGV[1])
  return { 0 }
end
