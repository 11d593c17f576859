-- The models a decoded signature spec prefers (`prefer.models`), or an empty list. O(m).
local function spec_models(spec)
  local prefer = spec.prefer
  if type(prefer) == 'table' and type(prefer.models) == 'table' then return prefer.models end
  return {}
end
