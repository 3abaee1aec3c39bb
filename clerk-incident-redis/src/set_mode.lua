-- Writes the fleet's mode as the next version, atomically: the record, its history entry and
-- its push are one step, so that concurrent writers each get their own version.
--
-- KEYS[1] the mode, KEYS[2] the version counter, KEYS[3] the history stream, KEYS[4] the epoch
-- ARGV[1] the record's JSON object without "epoch", "version", "set_at_ms" and "previous"
-- ARGV[2] the channel, ARGV[3] the history's length, ARGV[4] a fresh epoch (hex), used when
-- the version counter starts
--
-- Everything is checked before anything is written. The end is checked against this server's
-- clock, and the record stamped with it, so that a writer's clock cannot stretch a bypass
-- past 24 hours.
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ok, record = pcall(cjson.decode, ARGV[1])
if not ok or type(record) ~= 'table' or string.sub(ARGV[1], 1, 1) ~= '{' then
  return redis.error_reply('REFUSED the record is not a JSON object')
end
local mode = record['mode']
if mode ~= 'enforce' and mode ~= 'grace' and mode ~= 'open' then
  return redis.error_reply('REFUSED the record names no mode')
end
if mode ~= 'enforce' then
  local until_ms = record['until_ms']
  -- NaN is not equal to itself.
  if type(until_ms) ~= 'number' or until_ms ~= until_ms or until_ms <= now_ms then
    return redis.error_reply('REFUSED the bypass ends before the store\'s clock says now')
  end
  if until_ms > now_ms + 24 * 3600 * 1000 + 60 * 1000 then
    return redis.error_reply('REFUSED the bypass ends more than 24h after the store\'s clock says now')
  end
  if mode == 'grace' and type(record['max_token_age_secs']) ~= 'number' then
    return redis.error_reply('REFUSED a grace record needs max_token_age_secs')
  end
end
if not string.match(ARGV[4], '^[0-9a-f]+$') then
  return redis.error_reply('REFUSED the epoch must be hex')
end
-- The mode in force before this write: an ended bypass, or a record not understood, was
-- Enforce.
local previous = '{"mode":"enforce"}'
local current = redis.call('GET', KEYS[1])
if current then
  local current_ok, stored = pcall(cjson.decode, current)
  if current_ok and type(stored) == 'table' and type(stored['until_ms']) == 'number'
      and stored['until_ms'] > now_ms then
    local age = tonumber(stored['max_token_age_secs'])
    if stored['mode'] == 'grace' and age then
      previous = '{"mode":"grace","max_token_age_secs":' .. string.format('%d', age) .. '}'
    elseif stored['mode'] == 'open' then
      previous = '{"mode":"open"}'
    end
  end
end
local version = redis.call('INCR', KEYS[2])
local epoch = redis.call('GET', KEYS[4])
if version == 1 or not epoch or not string.match(epoch, '^[0-9a-f]+$') then
  epoch = ARGV[4]
  redis.call('SET', KEYS[4], epoch)
end
local rest = string.sub(ARGV[1], 2)
if rest ~= '}' then
  rest = ',' .. rest
end
local full = '{"epoch":"' .. epoch .. '","version":' .. string.format('%d', version)
  .. ',"set_at_ms":' .. string.format('%d', now_ms) .. ',"previous":' .. previous .. rest
redis.call('SET', KEYS[1], full)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'change', full)
redis.call('PUBLISH', ARGV[2], full)
return full
