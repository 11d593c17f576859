--[[
pending_page: one page of the pending listing, newest first: the entries after a cursor position in
(time entered pending desc, id desc) order, read from the few buckets that can hold them
(includes/pending.lua). Read-only, safe for FCALL_RO.

KEYS[1]  pending bucket prefix  + bucket number -> bucket (zset)
KEYS[2]  pending buckets        bucket number -> latest score added to it (zset)

ARGV[1]  highest score to return ('+inf' for the first page)
ARGV[2]  with ARGV[1], the last id already returned: entries at exactly that score with an id at or
         above it are left out; '' leaves none out
ARGV[3]  most entries to return

Returns a flat array id, score, id, score, ... in listing order.

Which buckets: the index orders buckets by U, the latest score ever added to each, and scores never
decrease in the order jobs enter pending, so each bucket is one run of the listing and a bucket
holds nothing above the entries of a bucket with a higher U. Entries at or below the cursor are
therefore in the buckets with U at or below it, and in the bucket(s) with the lowest U above it
(the run the cursor falls in). Buckets are read from the highest U down, each whole (at most 128
entries), until the page is full and the next bucket's U is below the page's last score.
Events: none (read-only).
Complexity: O(log B + b (log B + 128) + e log e) for B non-empty buckets, b buckets read and e
entries kept: b is about count / 128 + 2 while buckets are full, at most count + 2 however sparse
they are, plus the buckets whose entries tie with the page's last one (jobs that entered pending in
the same millisecond: at most a few calls' worth, such as one housekeeping batch); independent of
the number of pending jobs.
Flags: no-writes
]]
-- @include "pending"
local function pending_page(KEYS, ARGV)
  local prefix, index = KEYS[1], KEYS[2]
  local max, after, want = ARGV[1], ARGV[2], tonumber(ARGV[3])
  local max_score = max == '+inf' and math.huge or tonumber(max)
  if want < 1 then return {} end
  local found = {}
  local function read(bucket)
    local flat = redis.call('ZRANGE', prefix .. bucket, max, '-inf', 'BYSCORE', 'REV', 'WITHSCORES')
    local base = tonumber(bucket) * PENDING_BUCKET
    for i = 1, #flat, 2 do
      local member, score = flat[i], tonumber(flat[i + 1])
      local id = member
      if not string.find(member, '-', 1, true) then id = string.format('%013d-%010d', score, base + tonumber(member)) end
      if after == '' or score < max_score or id < after then found[#found + 1] = { id, score } end
    end
  end
  local function newest_first(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return a[1] > b[1]
  end

  if max_score ~= math.huge then
    local above = redis.call('ZRANGE', index, '(' .. max, '+inf', 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
    if above[1] then
      local tied = redis.call('ZRANGE', index, above[2], above[2], 'BYSCORE')
      for i = 1, #tied do read(tied[i]) end
    end
  end
  local offset, done = 0, false
  while not done do
    local buckets = redis.call('ZRANGE', index, max, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, 16, 'WITHSCORES')
    for i = 1, #buckets, 2 do
      if #found >= want then
        table.sort(found, newest_first)
        for j = #found, want + 1, -1 do found[j] = nil end
        if tonumber(buckets[i + 1]) < found[want][2] then
          done = true
          break
        end
      end
      read(buckets[i])
    end
    if #buckets < 32 then done = true end
    offset = offset + 16
  end
  table.sort(found, newest_first)
  local out = {}
  for i = 1, math.min(want, #found) do
    out[#out + 1] = found[i][1]
    out[#out + 1] = found[i][2]
  end
  return out
end
