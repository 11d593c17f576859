-- An index suffix "<class>:<service>[@<machine>]" -> class, service, machine (or nil). O(1).
local function split_suffix(suffix)
  local class, service, machine = string.match(suffix, '^([^:]+):([^@]+)@?(.*)$')
  if machine == '' then machine = nil end
  return class, service, machine
end
