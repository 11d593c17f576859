-- Appends one event to the job's timeline and to the capped global stream that monitors read.
-- `extra` is a flat array of field, value pairs. Returns nothing (no caller used the entry id, and
-- knowing it would cost a read of the timeline on each append).
--
-- The global stream entry has fields job, tenant, type, ts, then `extra`; it is trimmed
-- approximately (`~`), so trimming costs O(1) amortised.
--
-- The timeline costs what its entries cost (a stream preallocates ~4 KB per key). An entry is its
-- fields joined by byte 31: ts minus the ms of the job id, type, then the `extra` pairs (byte 30 or
-- 31 inside a value becomes a space); job and tenant are the timeline's own and are not repeated.
-- Entry ids are positions, 1, 2, ..., and never change. A timeline is:
--   * a string of entries each preceded by byte 30 while it is short (up to 512 bytes): the
--     cheapest key (a list costs ~100 bytes more on Redis 7.0). An event is one APPEND, which
--     creates the key too, so the writer needs neither its type nor its count. (A string written by
--     the version before has no byte 30 ahead of its first entry; readers accept both.)
--   * then a list: element 0 counts the entries trimmed from its head (0 until it passes 500
--     entries), then one entry per element, so the entry at index i has the id `trimmed + i`;
--   * a stream if an older version wrote it: it keeps taking stream entries, with stream ids,
--     until it expires, so a job in flight during the upgrade keeps working.
-- APPEND fails with WRONGTYPE on a list or a stream, which is how those forms are found.
-- A finished job's entry (`completed`, `failed`, `cancelled`) is written with GET + SET instead:
-- APPEND reallocates greedily (to twice the new length), and a retained finished job would keep
-- that spare room for as long as it is retained (64 bytes per job in bench/memory). Its callers
-- run `finish` (which sets the expiry) first, so SET keeps the TTL.
-- Commands: 1 per event on a string (2 for a finished job's entry), 2 on a list, 3 on a stream;
-- 4 to 6 once, when the string outgrows 512 bytes and becomes a list.
-- packages/core/src/schemas/events.ts and event-stream.ts read it.
-- Complexity: O(1) (O(k) for k entries trimmed at once past the cap; O(512) to rewrite a string).
local NO_EXTRA = {}
local function emit(events_key, timeline_key, job_id, tenant, etype, now, extra)
  -- No table is built for the fields: in a short call, Lua allocations cost as much as commands.
  extra = extra or NO_EXTRA
  redis.call('XADD', events_key, 'MAXLEN', '~', 10000, '*', 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', now, unpack(extra))
  local entry = (now - (tonumber(string.sub(job_id, 1, 13)) or 0)) .. '\31' .. etype
  for i = 1, #extra do
    local value = extra[i]
    if string.find(value, '[\30\31]') then value = (string.gsub(value, '[\30\31]', ' ')) end
    entry = entry .. '\31' .. value
  end

  -- `text` becomes the whole string timeline with the entry, when it outgrows a string.
  local reply, text
  if etype == 'completed' or etype == 'failed' or etype == 'cancelled' then
    reply = redis.pcall('GET', timeline_key)
    if type(reply) ~= 'table' then
      text = (reply or '') .. '\30' .. entry
      if #text <= 512 then
        redis.call('SET', timeline_key, text, 'KEEPTTL')
        return
      end
    end
  else
    reply = redis.pcall('APPEND', timeline_key, '\30' .. entry)
    if type(reply) == 'number' then
      if reply <= 512 then return end
      text = redis.call('GET', timeline_key)
    end
  end

  if text then
    -- Outgrown: the same entries, ids and expiry, as a list.
    local list = { 0 }
    for e in string.gmatch(text, '[^\30]+') do list[#list + 1] = e end
    local ttl = redis.call('PTTL', timeline_key)
    redis.call('DEL', timeline_key)
    redis.call('RPUSH', timeline_key, unpack(list))
    if ttl > 0 then redis.call('PEXPIRE', timeline_key, ttl) end
    return
  end
  if not string.find(reply.err, 'WRONGTYPE', 1, true) then error(reply) end

  local len = redis.pcall('RPUSH', timeline_key, entry)
  if type(len) == 'table' then
    if not string.find(len.err, 'WRONGTYPE', 1, true) then error(len) end
    redis.call('XADD', timeline_key, 'MAXLEN', '~', 500, '*', 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', now, unpack(extra))
    return
  end
  if len <= 501 then return end
  -- Past the cap: pop the trimmed count with the oldest entries, push back the new count.
  local popped = redis.call('LPOP', timeline_key, len - 500)
  local trimmed = tonumber(popped[1]) + len - 501
  redis.call('LPUSH', timeline_key, trimmed)
end
