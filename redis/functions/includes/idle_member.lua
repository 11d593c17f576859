-- An idle registration names its worker and the worker's machine: the member of the idle sets
-- (`idle:<suffix>`, `idle:<suffix>@<machine>` and the warm `idle:<suffix>|<model>`) is
-- "<worker> <machine>" (identifiers hold no space), so a submit that wakes the worker knows which
-- of its indexes a claim would read (the one of its machine) without a read. A member written by
-- the previous library is the worker id alone: `idle_parts` returns no machine for it, and such a
-- worker only ever gets a plain wake-up. O(1).
local function idle_member(worker, machine)
  return worker .. ' ' .. machine
end

local function idle_parts(member)
  local worker, machine = string.match(member, '^(%S+) (%S+)$')
  if worker then return worker, machine end
  return member, nil
end

-- Takes a worker out of its idle registrations for `service` (its class's and its machine's);
-- a warm registration counts only while the class one is there (includes/wake_one.lua), so it
-- lapses with it. O(log W).
local function unregister_idle(Q, class, service, machine, member)
  local suffix = class .. ':' .. service
  redis.call('ZREM', Q.idle_prefix .. suffix, member)
  redis.call('ZREM', Q.idle_prefix .. suffix .. '@' .. machine, member)
end
