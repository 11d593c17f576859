-- @include "matches"
-- Machines are not part of a capability class (a class is a hardware kind, not a machine): a pin
-- to one machine is kept in the index suffix, and an exclusion is checked by the claiming worker.
-- Takes both out of a decoded spec, so `matches(spec, caps)` decides the class part, and returns
-- the machine the spec is pinned to, or nil. O(1).
local function strip_machine(spec)
  local req = spec.requirements
  if type(req) ~= 'table' then return nil end
  local pin = type(req.machineId) == 'string' and req.machineId or nil
  req.machineId = nil
  if type(req.exclude) == 'table' then req.exclude.machineIds = nil end
  return pin
end

-- The index suffix under which `class` finds a signature of `service` pinned to `pin` (or not).
local function suffix_of(class, service, pin)
  local suffix = class .. ':' .. service
  if pin then suffix = suffix .. '@' .. pin end
  return suffix
end

-- Records that `class` can run signature `sig` of `service` (its decoded spec with the machine
-- taken out, and the machine it is pinned to), if it can: shared by a new signature learning its
-- classes and a new class learning the signatures. Returns the index suffix, or nil. O(r * c).
local function admit_class(Q, sig, spec, pin, service, class, caps)
  if not matches(spec, caps) then return nil end
  local suffix = suffix_of(class, service, pin)
  redis.call('SADD', Q.sig_classes_prefix .. sig, suffix)
  return suffix
end
