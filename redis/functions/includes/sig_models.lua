-- @include "spec_models"
-- The models a signature's jobs prefer, or an empty list. Signatures with preferences start with
-- 'w' (packages/core/src/matching.ts `signatureOf`), so any other costs nothing; one with
-- preferences costs one HGET of its spec. O(1) commands.
local function sig_models(Q, sig)
  if string.byte(sig, 1) ~= 119 then return {} end
  local spec = redis.call('HGET', Q.sigs, sig)
  return spec and spec_models(cjson.decode(spec)) or {}
end
