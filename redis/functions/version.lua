--[[
version: the content hash of the loaded library, so a process can tell at start whether the
functions in Redis are exactly the ones its code was written against.

KEYS: none
ARGV: none
Returns the library hash (string).
Events: none (read-only).
Complexity: O(1).
Flags: no-writes
]]
local function version(KEYS, ARGV)
  return '__CONVEYOR_LIBRARY_HASH__'
end
