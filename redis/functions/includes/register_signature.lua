-- @include "class_match"
-- Registers a requirement signature the first time it is seen (or again after pruning): decides
-- once which capability classes of its service can run it and records the index suffix of each.
-- A known signature costs one HSETNX. O(C) for C classes of the service, once per signature.
-- The spec JSON of a signature rebuilt from a job's own fields (requirements and prefer: their
-- stored JSON, or nil for none). Matching needs no canonical form, so it registers the job's
-- signature as well as the canonical spec would.
local function job_spec_json(service, tenant, requirements, prefer)
  return cjson.encode({ service = service, tenant = tenant, requirements = requirements and cjson.decode(requirements) or {},
    prefer = prefer and cjson.decode(prefer) or nil })
end

local function register_signature(Q, sig, spec_json, service)
  if redis.call('HSETNX', Q.sigs, sig, spec_json) == 0 then return end
  redis.call('SADD', Q.services, service)
  redis.call('SADD', Q.svc_sigs_prefix .. service, sig)
  local spec = cjson.decode(spec_json)
  local ex = type(spec.requirements) == 'table' and spec.requirements.exclude
  if type(ex) == 'table' and type(ex.machineIds) == 'table' and #ex.machineIds > 0 then
    redis.call('HSET', Q.sig_excl, sig, table.concat(ex.machineIds, '\n'))
  end
  local pin = strip_machine(spec)
  local classes = redis.call('SMEMBERS', Q.svc_classes_prefix .. service)
  for i = 1, #classes do
    local caps = redis.call('HGET', Q.classes, classes[i])
    if caps then admit_class(Q, sig, spec, pin, service, classes[i], cjson.decode(caps)) end
  end
end
