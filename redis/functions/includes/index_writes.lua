-- Writes of many jobs to the same few shared index keys, made with one command per key. A claim
-- that leases k jobs and completes c adds each to the lease index (`active`) and its worker's
-- lease set, takes it out of a pending bucket, and moves each completed one from the lease index
-- and the worker's lease set into the `completed` index: one command per job and key. Gathered
-- in a batch, they are written by `flush_index_writes` as one command per key and command. Every
-- write command a function runs is replicated and appended to the AOF as a command of its own, so
-- a replica and the AOF get ~7 writes per job of a c50 drain instead of ~13.
--
-- A helper given no batch (nil) writes at once, so a function handling one job (complete, a
-- submit's push) runs as before. A batch writes its commands in the order their keys were first
-- used, and must not hold two writes of one member to one key, whose order it does not keep: a
-- claim never does (a job it completes is not pending, and one it leases is not active). Nothing
-- in the call may read a key before the batch is flushed.
-- O(1) per write; a flush O(n log N) for n members written, in commands of at most
-- INDEX_WRITE_CHUNK arguments (Lua's unpack has a limit).
local INDEX_WRITE_CHUNK = 4000

local function drop_if_empty(key, index, member)
  if redis.call('EXISTS', key) == 0 then redis.call('ZREM', index, member) end
end

local function index_batch()
  return { order = {}, by_key = {}, emptied = {}, emptied_keys = {} }
end

-- `command` key `...` (one member, or a score and a member), now or at the flush.
local function index_write(W, command, key, a, b)
  if not W then
    if b then return redis.call(command, key, a, b) end
    return redis.call(command, key, a)
  end
  local slot = command .. ' ' .. key
  local args = W.by_key[slot]
  if not args then
    args = {}
    W.by_key[slot] = args
    W.order[#W.order + 1] = { command, key, args }
  end
  args[#args + 1] = a
  if b then args[#args + 1] = b end
end

-- Removes `member` of `index` once `key` is empty (an emptied bucket leaves its index), now or
-- after the flush's writes.
local function index_drop_if_empty(W, key, index, member)
  if not W then return drop_if_empty(key, index, member) end
  if not W.emptied_keys[key] then
    W.emptied_keys[key] = true
    W.emptied[#W.emptied + 1] = { key, index, member }
  end
end

local function flush_index_writes(W)
  for i = 1, #W.order do
    local command, key, args = W.order[i][1], W.order[i][2], W.order[i][3]
    for from = 1, #args, INDEX_WRITE_CHUNK do
      redis.call(command, key, unpack(args, from, math.min(#args, from + INDEX_WRITE_CHUNK - 1)))
    end
  end
  for i = 1, #W.emptied do drop_if_empty(W.emptied[i][1], W.emptied[i][2], W.emptied[i][3]) end
end
