--[[
deregister: removes a stopping worker from the idle and live sets, so no submit tries to wake
it and stats stop counting it.

KEYS[1] idle prefix          + class:service -> idle workers
KEYS[2] class workers prefix + class -> live workers

ARGV[1] worker id
ARGV[2] capability class
ARGV[3..] the worker's services

Returns {0}.
Events: none.
Complexity: O(S log W) for S services and W workers of the class.
]]
local function deregister(KEYS, ARGV)
  for i = 3, #ARGV do redis.call('ZREM', KEYS[1] .. ARGV[2] .. ':' .. ARGV[i], ARGV[1]) end
  redis.call('ZREM', KEYS[2] .. ARGV[2], ARGV[1])
  return { 0 }
end
