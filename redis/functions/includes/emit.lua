-- Appends one event to the job's timeline and to the capped global stream that monitors read.
-- `extra` is a flat array of field, value pairs. Returns the timeline entry id.
--
-- The global stream entry has fields job, tenant, type, ts, then `extra`; it is trimmed
-- approximately (`~`), so trimming costs O(1) amortised.
--
-- The timeline costs what its entries cost (a stream preallocates ~4 KB per key). An entry is its
-- fields joined by byte 31: ts minus the ms of the job id, type, then the `extra` pairs (byte 30 or
-- 31 inside a value becomes a space); job and tenant are the timeline's own and are not repeated.
-- Entry ids are positions, 1, 2, ..., and never change. A timeline is:
--   * a string of entries joined by byte 30 while it is short (up to 512 bytes): the cheapest
--     key (a list costs ~100 bytes more on Redis 7.0), rewritten whole on each append;
--   * then a list: element 0 counts the entries trimmed from its head (0 until it passes 500
--     entries), then one entry per element, so the entry at index i has the id `trimmed + i`;
--   * a stream if an older version wrote it: it keeps taking stream entries, with stream ids,
--     until it expires, so a job in flight during the upgrade keeps working.
-- packages/core/src/schemas/events.ts and event-stream.ts read it.
-- Complexity: O(1) (O(k) for k entries trimmed at once past the cap; O(512) while a string).
local function emit(events_key, timeline_key, job_id, tenant, etype, now, extra)
  local fields = { 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', now }
  local parts = { now - (tonumber(string.match(job_id, '^(%d+)%-')) or 0), etype }
  if extra then
    for i = 1, #extra do
      local value = extra[i]
      fields[#fields + 1] = value
      if string.find(value, '[\30\31]') then value = (string.gsub(value, '[\30\31]', ' ')) end
      parts[#parts + 1] = value
    end
  end
  redis.call('XADD', events_key, 'MAXLEN', '~', 10000, '*', unpack(fields))
  local entry = table.concat(parts, '\31')

  local kind = redis.call('TYPE', timeline_key)['ok']
  if kind == 'none' then
    redis.call('SET', timeline_key, entry)
    return '1'
  elseif kind == 'string' then
    local text = redis.call('GET', timeline_key)
    local id = select(2, string.gsub(text, '\30', '\30')) + 2
    if #text + 1 + #entry <= 512 then
      redis.call('SET', timeline_key, text .. '\30' .. entry, 'KEEPTTL')
      return tostring(id)
    end
    -- Outgrown: the same entries, ids and expiry, as a list.
    local list = { 0 }
    for e in string.gmatch(text, '[^\30]+') do list[#list + 1] = e end
    list[#list + 1] = entry
    local ttl = redis.call('PTTL', timeline_key)
    redis.call('DEL', timeline_key)
    redis.call('RPUSH', timeline_key, unpack(list))
    if ttl > 0 then redis.call('PEXPIRE', timeline_key, ttl) end
    return tostring(id)
  elseif kind == 'stream' then
    return redis.call('XADD', timeline_key, 'MAXLEN', '~', 500, '*', unpack(fields))
  end

  local len = redis.call('RPUSH', timeline_key, entry)
  if len <= 501 then return tostring(len - 1) end
  -- Past the cap: pop the trimmed count with the oldest entries, push back the new count.
  local popped = redis.call('LPOP', timeline_key, len - 500)
  local trimmed = tonumber(popped[1]) + len - 501
  redis.call('LPUSH', timeline_key, trimmed)
  return tostring(trimmed + 500)
end
