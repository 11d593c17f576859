-- @include "matches"
-- Is capability class `class` able to run jobs of signature `sig`? Both are content-addressed
-- (a hash of their canonical JSON), so an answer never goes stale and is cached in `compat_key`
-- unless `read_only` (FCALL_RO callers may not write). O(1) on a cache hit.
local function compatible(sigs_key, classes_key, compat_key, sig, class, read_only)
  local field = sig .. '|' .. class
  local cached = redis.call('HGET', compat_key, field)
  if cached then return cached == '1' end
  local spec = redis.call('HGET', sigs_key, sig)
  local caps = redis.call('HGET', classes_key, class)
  if not spec or not caps then return false end
  local ok = matches(cjson.decode(spec), cjson.decode(caps))
  if not read_only then redis.call('HSET', compat_key, field, ok and '1' or '0') end
  return ok
end
