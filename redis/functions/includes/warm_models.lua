-- The models a class's workers have registered idle-warm under (`idle:<class>:<service>|<model>`,
-- named in `idleclasses:<service>|<model>`), kept for housekeeping (reap.lua), which must find
-- those sets to forget a dead worker's entries in them and to delete them with the class: the
-- field ' warm:<class>' of the sweep hash, one model per line. A worker's warm set is not part of
-- its class, so nothing else records it.

local function warm_models_field(class)
  return ' warm:' .. class
end

-- The models recorded for `class`, as a list.
local function warm_models(Q, class)
  local models = {}
  for m in string.gmatch(redis.call('HGET', Q.sig_sweep, warm_models_field(class)) or '', '[^\n]+') do
    models[#models + 1] = m
  end
  return models
end

-- Records the models of `warm` not recorded yet. One read, and a write when one is new. O(w k) for
-- w models in `warm` and k recorded.
local function note_warm_models(Q, class, warm)
  local field = warm_models_field(class)
  local known = redis.call('HGET', Q.sig_sweep, field) or ''
  local text = known
  for i = 1, #warm do
    if not string.find('\n' .. text .. '\n', '\n' .. warm[i] .. '\n', 1, true) then
      text = text == '' and warm[i] or text .. '\n' .. warm[i]
    end
  end
  if text ~= known then redis.call('HSET', Q.sig_sweep, field, text) end
end
