-- Pure predicate: can a worker with capabilities `caps` run a job described by `spec`? (`matches`;
-- `mismatch` says which requirement it fails.)
-- spec = { service, tenant, requirements = { gpuMemoryMb, models, pool, machineId, tags,
--          isolation, exclude = { models, tags, pools, machineIds } } }
-- caps = { services, gpuMemoryMb, models, pool, machineId, tags, tenants = { allow, deny } }
-- Cost: O(r * c) for list requirements, both tiny in practice.
local function contains(list, value)
  if type(list) ~= 'table' then return false end
  for i = 1, #list do if list[i] == value then return true end end
  return false
end

local function contains_all(list, wanted)
  if type(wanted) ~= 'table' then return true end
  for i = 1, #wanted do if not contains(list, wanted[i]) then return false end end
  return true
end

local function contains_any(list, unwanted)
  if type(unwanted) ~= 'table' then return false end
  for i = 1, #unwanted do if contains(list, unwanted[i]) then return true end end
  return false
end

-- The first requirement of `spec` that a worker with capabilities `caps` fails, by its field name
-- ('service', 'tenant', 'gpuMemoryMb', 'models', 'tags', 'pool', 'machineId', 'isolation',
-- 'exclude.models', 'exclude.tags', 'exclude.pools', 'exclude.machineIds'), or nil when it may run
-- the job.
local function mismatch(spec, caps)
  if not contains(caps.services, spec.service) then return 'service' end
  local tenants = caps.tenants
  if type(tenants) == 'table' then
    if type(tenants.allow) == 'table' and not contains(tenants.allow, spec.tenant) then return 'tenant' end
    if contains(tenants.deny, spec.tenant) then return 'tenant' end
  end
  local req = spec.requirements
  if type(req) ~= 'table' then return nil end
  if type(req.gpuMemoryMb) == 'number' then
    if type(caps.gpuMemoryMb) ~= 'number' or caps.gpuMemoryMb < req.gpuMemoryMb then return 'gpuMemoryMb' end
  end
  if not contains_all(caps.models, req.models) then return 'models' end
  if not contains_all(caps.tags, req.tags) then return 'tags' end
  if type(req.pool) == 'string' and caps.pool ~= req.pool then return 'pool' end
  if type(req.machineId) == 'string' and caps.machineId ~= req.machineId then return 'machineId' end
  if req.isolation == 'dedicated' then
    if type(tenants) ~= 'table' or not contains(tenants.allow, spec.tenant) then return 'isolation' end
  end
  local ex = req.exclude
  if type(ex) == 'table' then
    if contains_any(caps.models, ex.models) then return 'exclude.models' end
    if contains_any(caps.tags, ex.tags) then return 'exclude.tags' end
    if type(caps.pool) == 'string' and contains(ex.pools, caps.pool) then return 'exclude.pools' end
    if type(caps.machineId) == 'string' and contains(ex.machineIds, caps.machineId) then return 'exclude.machineIds' end
  end
  return nil
end

local function matches(spec, caps)
  return mismatch(spec, caps) == nil
end
