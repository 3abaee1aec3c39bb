-- Writes the fleet's mode as the next version, atomically: the record, its history entry and
-- its push are one step, so that concurrent writers each get their own version.
--
-- KEYS[1] the mode, KEYS[2] the version counter, KEYS[3] the history stream
-- ARGV[1] the record's JSON object without "version" and "previous"
-- ARGV[2] the channel, ARGV[3] the history's length
local version = redis.call('INCR', KEYS[2])
local previous = '{"mode":"enforce"}'
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and type(record['until_ms']) == 'number' then
    local now = redis.call('TIME')
    local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    -- The mode in force before this write: an ended bypass was Enforce.
    if record['until_ms'] > now_ms then
      if record['mode'] == 'grace' then
        previous = '{"mode":"grace","max_token_age_secs":'
          .. string.format('%d', record['max_token_age_secs']) .. '}'
      elseif record['mode'] == 'open' then
        previous = '{"mode":"open"}'
      end
    end
  end
end
local full = '{"version":' .. string.format('%d', version) .. ',"previous":' .. previous .. ','
  .. string.sub(ARGV[1], 2)
redis.call('SET', KEYS[1], full)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'change', full)
redis.call('PUBLISH', ARGV[2], full)
return full
