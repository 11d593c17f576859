--[[
observe: folds one finished run into the broker's performance record of a (service, capability
class, model): its run time and, when the worker had to load the model first, its load time, each
an exponentially weighted moving average. `GET /api/services/:name/stats` and the monitor read it;
preload and operators use it to see what a cold start costs per model and per hardware kind.

KEYS[1] the service's performance hash (field "<class>|<model>" -> "<run ewma> <load ewma> <runs> <loads>")

ARGV[1] capability class
ARGV[2] model ('' when the job names none)
ARGV[3] run ms (the work itself, the load excluded), '' when unknown
ARGV[4] load ms, '' when the model was already warm
ARGV[5] weight of the new sample (0 < alpha <= 1)

Returns {0}.
Events: none.
Complexity: O(1).
]]
local function observe(KEYS, ARGV)
  local field = ARGV[1] .. '|' .. ARGV[2]
  local alpha = tonumber(ARGV[5])
  local run, load, runs, loads = 0, 0, 0, 0
  local old = redis.call('HGET', KEYS[1], field)
  if old then
    local a, b, c, d = string.match(old, '^(%S+) (%S+) (%S+) (%S+)$')
    run, load, runs, loads = tonumber(a) or 0, tonumber(b) or 0, tonumber(c) or 0, tonumber(d) or 0
  end
  -- The first sample is taken as is: an average that starts from 0 would read low for a while.
  local function fold(avg, n, sample) return n == 0 and sample or avg + alpha * (sample - avg) end
  if ARGV[3] ~= '' then
    run = fold(run, runs, tonumber(ARGV[3]))
    runs = runs + 1
  end
  if ARGV[4] ~= '' then
    load = fold(load, loads, tonumber(ARGV[4]))
    loads = loads + 1
  end
  redis.call('HSET', KEYS[1], field, string.format('%.1f %.1f %d %d', run, load, runs, loads))
  return { 0 }
end
