-- An integer (a time in ms, a count) as the argument Redis receives: a Lua number passed to
-- redis.call is formatted with "%.17g", which costs more than "%d" here, and a short command
-- taking two number arguments pays a sixth of its time for them. Integers only: a fractional rank
-- or tag is passed as the number it is. O(1).
local function int_arg(n)
  return string.format('%d', n)
end
