-- Appends one event to the job's timeline and to the capped global stream that monitors read.
-- `extra` is a flat array of field, value pairs. Returns the timeline entry id.
-- Streams are trimmed approximately (`~`) so trimming costs O(1) amortised.
local function emit(events_key, timeline_key, job_id, tenant, etype, now, extra)
  local fields = { 'job', job_id, 'tenant', tenant, 'type', etype, 'ts', now }
  if extra then
    for i = 1, #extra do fields[#fields + 1] = extra[i] end
  end
  local id = redis.call('XADD', timeline_key, 'MAXLEN', '~', 500, '*', unpack(fields))
  redis.call('XADD', events_key, 'MAXLEN', '~', 10000, '*', unpack(fields))
  return id
end
