-- Writes the fleet's mode as the next version, atomically: the record, its history entry and
-- its push are one step, so that concurrent writers each get their own version.
--
-- KEYS[1] the mode, KEYS[2] the version counter, KEYS[3] the history stream, KEYS[4] the epoch
-- ARGV[1] the record's JSON object without "epoch", "version", "set_at_ms" and "previous"
-- ARGV[2] the channel, ARGV[3] the history's length, ARGV[4] a fresh epoch, used when the
-- version counter starts; ARGV[5] the bypass's end in Unix ms ("" for enforce)
--
-- The end is checked against this server's clock, and the record stamped with it, so that a
-- writer's clock cannot stretch a bypass past 24 hours.
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if ARGV[5] ~= '' then
  local until_ms = tonumber(ARGV[5])
  if not until_ms or until_ms <= now_ms then
    return redis.error_reply('REFUSED the bypass ends before the store\'s clock says now')
  end
  if until_ms > now_ms + 24 * 3600 * 1000 + 60 * 1000 then
    return redis.error_reply('REFUSED the bypass ends more than 24h after the store\'s clock says now')
  end
end
local version = redis.call('INCR', KEYS[2])
local epoch = redis.call('GET', KEYS[4])
if version == 1 or not epoch then
  epoch = ARGV[4]
  redis.call('SET', KEYS[4], epoch)
end
-- The mode in force before this write: an ended bypass, or a record not understood, was
-- Enforce.
local previous = '{"mode":"enforce"}'
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and type(record['until_ms']) == 'number'
      and record['until_ms'] > now_ms then
    local age = tonumber(record['max_token_age_secs'])
    if record['mode'] == 'grace' and age then
      previous = '{"mode":"grace","max_token_age_secs":' .. string.format('%d', age) .. '}'
    elseif record['mode'] == 'open' then
      previous = '{"mode":"open"}'
    end
  end
end
local full = '{"epoch":"' .. epoch .. '","version":' .. string.format('%d', version)
  .. ',"set_at_ms":' .. string.format('%d', now_ms) .. ',"previous":' .. previous .. ','
  .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[1], full)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'change', full)
redis.call('PUBLISH', ARGV[2], full)
return full
