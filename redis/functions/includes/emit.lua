-- @include "int_arg"
-- A job's timeline and the global event stream. Every event goes to both: the capped global stream
-- that monitors read (fields job, tenant, type, ts, then `extra`; trimmed approximately, `~`, so
-- O(1) amortised) and the job's timeline, whose entry ids are positions, 1, 2, 3, ..., that never
-- change (the resume cursor of SSE and of the RunPod stream). packages/core/src/event-stream.ts and
-- schemas/events.ts read the timeline.
--
-- An entry is its fields joined by byte 31: ts minus the ms of the job id, type, then the `extra`
-- pairs (byte 30 or 31 inside a value becomes a space). The job, tenant and service are the job's
-- own and are not stored in its entries.
--
-- The job hash's `tl` field says where the timeline is:
--   * absent: it is one implicit entry, the submit's `pending` at createdAt (the job's service): a
--     job pending since its submit stores no timeline;
--   * entries, each preceded by byte 30: the entries after the implicit one (a delayed submit
--     stores its `delayed` entry, which is then the first). The HSET that the transition does
--     anyway writes it, so an event costs no command of its own. An `active` entry is stored bare:
--     its worker, machine and attempt are the job's fields of those names until a claim, a
--     take-back or a retry changes them, which first writes them into the entry (`with_run`). The
--     field stays at most 64 bytes, Redis' hash-max-listpack-value (a longer value turns a compact
--     listpack hash into a hashtable, ~700 bytes more), or 512 in a hash that is a hashtable
--     already (a large payload or result);
--   * '' : it is the key tl:<id>, where it moves once it outgrows the field (its implicit and bare
--     entries written out) and expires with its job (finish.lua): a string of entries each
--     preceded by byte 30 while up to 512 bytes (the cheapest key: a list costs ~150 bytes more),
--     then a list whose element 0 counts the entries trimmed from its head (0 until it passes 500
--     entries), then one entry per element, so the entry at index i has the id `trimmed + i`.
--     The previous library (conveyor_v4 and before) wrote every timeline there, in that form, the
--     submit entry included (with no byte 30 ahead of the first entry in older versions), or as a
--     stream (stream ids), which keeps taking stream entries until it expires.
-- This library writes `tl` at every transition out of pending, so a job without it that has left
-- pending is one the previous library wrote; one still pending is checked for a key once
-- (`timeline_of`).
local NO_EXTRA = {}
local HASH_VALUE_MAX = 64
local FIELD_MAX = 512
-- The submit's `pending`, at the job's createdAt (its id's ms), when written out.
local IMPLICIT_ENTRY = '0\31pending'

local function clean(value)
  if string.find(value, '[\30\31]') then return (string.gsub(value, '[\30\31]', ' ')) end
  return value
end

-- The stored entry of an event; `bare` leaves out its fields.
local function timeline_entry(job_id, etype, now, extra, bare)
  -- No table is built for the fields: in a short call, Lua allocations cost as much as commands.
  local entry = int_arg(now - (tonumber(string.sub(job_id, 1, 13)) or 0)) .. '\31' .. etype
  if bare then return entry end
  for i = 1, #extra - 1, 2 do
    if extra[i] ~= 'service' then entry = entry .. '\31' .. clean(extra[i]) .. '\31' .. clean(extra[i + 1]) end
  end
  return entry
end

-- Where the timeline of a job in `status` is, from its `tl` field as read (false when absent): the
-- field's entries, false (only the implicit entry), or '' (the key). A job pending since its submit
-- may be one a previous library queued: one EXISTS, at its first event only, unless the caller read
-- the whole job and passes `created_here`, true when it has no `createdAt` field (this library's
-- submit stores none; the previous ones did). O(1).
local function timeline_of(timeline_key, tl, status, created_here)
  if tl then return tl end
  if status ~= 'pending' then return '' end
  if created_here or redis.call('EXISTS', timeline_key) == 0 then return false end
  return ''
end

-- The timeline field with its bare `active` entry, if it has one, given the run's worker, machine
-- and attempt: called before the job's fields of those names change. O(length of the field).
local function with_run(tl, worker, machine, attempts)
  if not tl or tl == '' then return tl end
  local _, e = string.find(tl .. '\30', '\30%-?%d+\31active\30')
  if not e then return tl end
  return string.sub(tl, 1, e - 1) .. '\31worker\31' .. clean(worker or '') .. '\31machine\31' .. clean(machine or '')
    .. '\31attempt\31' .. (attempts or 0) .. string.sub(tl, e)
end

-- Writes a whole timeline, `text` (its entries each preceded by byte 30), to the key with expiry
-- `ttl` (ms; none unless > 0): a string up to 512 bytes, else a list. O(length of text).
local function write_key(timeline_key, text, ttl)
  if #text <= FIELD_MAX then
    if ttl > 0 then redis.call('SET', timeline_key, text, 'PX', ttl) else redis.call('SET', timeline_key, text) end
    return
  end
  local list = { 0 }
  for e in string.gmatch(text, '[^\30]+') do list[#list + 1] = e end
  redis.call('DEL', timeline_key)
  redis.call('RPUSH', timeline_key, unpack(list))
  if ttl > 0 then redis.call('PEXPIRE', timeline_key, ttl) end
end

-- Moves a timeline that outgrew the field into the key, its implicit entry and bare `active` entry
-- written out and `entry` last, with the job's expiry. 3 commands (5 past 512 bytes), once per job.
local function spill(timeline_key, job_key, tl, entry)
  local run = redis.call('HMGET', job_key, 'worker', 'machine', 'attempts')
  local text = with_run(tl, run[1], run[2], run[3]) or ''
  if not string.find(text, '^\30%-?%d+\31delayed\31') then text = '\30' .. IMPLICIT_ENTRY .. text end
  write_key(timeline_key, text .. '\30' .. entry, redis.call('PTTL', job_key))
end

-- Appends an entry to a timeline kept in the key. On a string an event is one APPEND, which fails
-- with WRONGTYPE on a list or a stream, which is how those are found. A finished job's entry
-- (`completed`, `failed`, `cancelled`) is written with GET + SET instead: APPEND reallocates
-- greedily (to twice the new length), and a retained job would keep that room. Past 512 bytes the
-- string becomes a list with the same entries, ids and expiry; a list keeps its last 500 entries.
-- Commands: 1 on a string (2 for a finished job's entry), 2 on a list, 3 on a stream; 4 to 6 once
-- when a string becomes a list. O(1) (O(k) for k entries trimmed at once; O(512) to rewrite a
-- string).
local function append_to_key(timeline_key, job_id, tenant, etype, now, extra)
  local entry = timeline_entry(job_id, etype, now, extra, false)
  local reply
  if etype == 'completed' or etype == 'failed' or etype == 'cancelled' then
    reply = redis.pcall('GET', timeline_key)
    if type(reply) ~= 'table' then
      local text = (reply or '') .. '\30' .. entry
      if #text <= FIELD_MAX then
        redis.call('SET', timeline_key, text, 'KEEPTTL')
      else
        write_key(timeline_key, text, redis.call('PTTL', timeline_key))
      end
      return
    end
  else
    reply = redis.pcall('APPEND', timeline_key, '\30' .. entry)
    if type(reply) == 'number' then
      if reply > FIELD_MAX then write_key(timeline_key, redis.call('GET', timeline_key), redis.call('PTTL', timeline_key)) end
      return
    end
  end
  if not string.find(reply.err, 'WRONGTYPE', 1, true) then error(reply) end

  local len = redis.pcall('RPUSH', timeline_key, entry)
  if type(len) == 'table' then
    if not string.find(len.err, 'WRONGTYPE', 1, true) then error(len) end
    redis.call('XADD', timeline_key, 'MAXLEN', '~', '500', '*', 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', int_arg(now), unpack(extra))
    return
  end
  if len <= 501 then return end
  -- Past the cap: pop the trimmed count with the oldest entries, push back the new count.
  local popped = redis.call('LPOP', timeline_key, len - 500)
  local trimmed = tonumber(popped[1]) + len - 501
  redis.call('LPUSH', timeline_key, trimmed)
end

-- Adds an event to the global stream only: a submit's, whose timeline entry is implicit. O(1).
local function publish(events_key, job_id, tenant, etype, now, extra)
  redis.call('XADD', events_key, 'MAXLEN', '~', '10000', '*', 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', int_arg(now), unpack(extra))
end

-- Records one event of job `job_id` on the global stream and its timeline; `tl` is where the
-- timeline is (timeline_of). Returns the job's `tl` field after the event, which the caller writes
-- in the HSET of its transition ('' once the timeline is in the key). Commands: 1 (the XADD) while
-- the timeline is in the field, plus one OBJECT ENCODING when the field first passes 64 bytes and
-- the spill's 3 when it moves to the key; then 1 + append_to_key's. O(1) (O(512) to copy the
-- field).
local function emit(events_key, timeline_key, job_key, job_id, tenant, tl, etype, now, extra)
  extra = extra or NO_EXTRA
  publish(events_key, job_id, tenant, etype, now, extra)
  if tl == '' then
    append_to_key(timeline_key, job_id, tenant, etype, now, extra)
    return ''
  end
  local stored = (tl or '') .. '\30' .. timeline_entry(job_id, etype, now, extra, etype == 'active')
  if #stored <= HASH_VALUE_MAX then return stored end
  if #stored <= FIELD_MAX and ((tl and #tl > HASH_VALUE_MAX) or redis.call('OBJECT', 'ENCODING', job_key) == 'hashtable') then
    return stored
  end
  spill(timeline_key, job_key, tl, timeline_entry(job_id, etype, now, extra, false))
  return ''
end
