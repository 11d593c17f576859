--[[
heartbeat: registers a worker's capability class and marks the worker live, so stats can tell
which queues some live worker can serve and submits can wake it.

KEYS[1] classes             class -> capabilities JSON
KEYS[2] svc classes prefix  + service -> classes
KEYS[3] class workers prefix + class -> live workers (score = last seen)

ARGV[1] worker id
ARGV[2] capability class
ARGV[3] capabilities JSON
ARGV[4..] services

Returns {0}.
Events: none.
Complexity: O(s) for s services.
]]
-- @include "now_ms"
local function heartbeat(KEYS, ARGV)
  if redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3]) == 1 then
    for i = 4, #ARGV do redis.call('SADD', KEYS[2] .. ARGV[i], ARGV[2]) end
  end
  redis.call('ZADD', KEYS[3] .. ARGV[2], now_ms(), ARGV[1])
  return { 0 }
end
