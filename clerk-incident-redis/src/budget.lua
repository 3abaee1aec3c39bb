-- The fleet's Backend API budget: one send slot at a time, every `interval` across every
-- process, none before a pause (a 429's Retry-After) ends. By this server's clock, in
-- microseconds, so that the processes' clocks do not matter.
--
-- KEYS[1] the next free slot, KEYS[2] the end of the pause
-- ARGV[1] `reserve` or `pause`, ARGV[2] the interval (reserve) or the pause (pause), in µs
--
-- reserve returns how long the caller waits before sending, in µs; pause returns 1.
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local amount = tonumber(ARGV[2])
-- NaN is not equal to itself; an hour bounds both a spacing and a Retry-After.
if not amount or amount ~= amount or amount < 0 or amount > 3600 * 1000000 then
  return redis.error_reply('REFUSED the interval or pause is out of range')
end
-- A value beyond an hour ahead was not written by this script (a planted one, a clock that
-- went back): it is dropped, never waited on.
local horizon = now_us + 3600 * 1000000
local paused = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if paused ~= paused or paused > horizon then paused = 0 end
if ARGV[1] == 'pause' then
  local until_us = now_us + amount
  if until_us > paused then
    redis.call('SET', KEYS[2], string.format('%d', until_us), 'PX', math.floor(amount / 1000) + 1000)
  end
  return 1
end
if ARGV[1] ~= 'reserve' then
  return redis.error_reply('REFUSED unknown operation')
end
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if next_free ~= next_free or next_free > horizon then next_free = 0 end
local slot = math.max(now_us, next_free, paused)
local after = slot + amount
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', math.floor((after - now_us) / 1000) + 1000)
return math.floor(slot - now_us)
