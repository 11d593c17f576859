-- Appends one event to the job's timeline and to the capped global stream that monitors read.
-- `extra` is a flat array of field, value pairs. Returns the timeline entry id.
--
-- The global stream entry has fields job, tenant, type, ts, then `extra`; it is trimmed
-- approximately (`~`), so trimming costs O(1) amortised.
--
-- The timeline is a list that costs what its entries cost (a stream preallocates ~4 KB per key).
-- Element 0 counts the entries trimmed from its head (0 until it passes 500 entries); then one
-- string per event, oldest first, so the event at index i has the id `trimmed + i` (1, 2, ...),
-- which never changes. An event is its fields joined by the unit separator (byte 31): ts minus
-- the ms of the job id, type, then the `extra` pairs (a separator inside a value becomes a space).
-- job and tenant are the timeline's own and are not repeated. schemas/events.ts reads it.
-- A timeline written as a stream before lists (WRONGTYPE) keeps taking stream entries until it
-- expires, so a job in flight during the upgrade keeps its ids.
-- Complexity: O(1) (O(k) for k entries trimmed at once past the cap).
local function emit(events_key, timeline_key, job_id, tenant, etype, now, extra)
  local fields = { 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', now }
  local entry = { now - (tonumber(string.match(job_id, '^(%d+)%-')) or 0), etype }
  if extra then
    for i = 1, #extra do
      local value = extra[i]
      fields[#fields + 1] = value
      if string.find(value, '\31', 1, true) then value = (string.gsub(value, '\31', ' ')) end
      entry[#entry + 1] = value
    end
  end
  redis.call('XADD', events_key, 'MAXLEN', '~', 10000, '*', unpack(fields))
  local len = redis.pcall('RPUSH', timeline_key, table.concat(entry, '\31'))
  if type(len) == 'table' then
    return redis.call('XADD', timeline_key, 'MAXLEN', '~', 500, '*', unpack(fields))
  end
  if len == 1 then
    redis.call('LPUSH', timeline_key, 0)
    return '1'
  end
  if len <= 501 then return tostring(len - 1) end
  -- Past the cap: pop the trimmed count with the oldest entries, push back the new count.
  local popped = redis.call('LPOP', timeline_key, len - 500)
  local trimmed = tonumber(popped[1]) + len - 501
  redis.call('LPUSH', timeline_key, trimmed)
  return tostring(trimmed + 500)
end
