-- The fleet's revocation slot: one job at a time, under a lease with a fencing token.
--
-- KEYS[1] the lease (a hash: job, holder, fence; expires unless renewed)
-- KEYS[2] the current job (its id, until it ends)
-- KEYS[3] the fencing counter (never goes back while the server keeps its data)
-- KEYS[4] the job's record, KEYS[5] its checkpoint (a list), KEYS[6] its cancel request
-- ARGV[1] the operation, ARGV[2] the job, ARGV[3] the holder, ARGV[4] the fence,
-- ARGV[5] the lease's lifetime (ms), ARGV[6] the record's lifetime (ms), ARGV[7…] values
--
-- acquire returns {'granted', fence} or {'held', job}; current returns {job, holder} (false
-- for what is missing); cancel returns the request in force; every fenced operation returns
-- 1, or 0 when the caller's lease is no longer the live one (nothing written).
local op = ARGV[1]
local job = ARGV[2]
local lease_ms = tonumber(ARGV[5])
local record_ms = tonumber(ARGV[6])
if not lease_ms or not record_ms or lease_ms < 1 or record_ms < 1 then
  return redis.error_reply('REFUSED a lifetime is out of range')
end
if op == 'current' then
  local current = redis.call('GET', KEYS[2])
  local holder = redis.call('HGET', KEYS[1], 'holder')
  return {current, holder}
end
if op == 'cancel' then
  redis.call('SET', KEYS[6], ARGV[7], 'NX', 'PX', record_ms)
  return redis.call('GET', KEYS[6])
end
if op == 'acquire' then
  local held = redis.call('HGET', KEYS[1], 'job')
  if held then
    return {'held', held}
  end
  local current = redis.call('GET', KEYS[2])
  if current and current ~= job then
    return {'held', current}
  end
  local fence = redis.call('INCR', KEYS[3])
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'job', job, 'holder', ARGV[3], 'fence', fence)
  redis.call('PEXPIRE', KEYS[1], lease_ms)
  redis.call('SET', KEYS[2], job, 'PX', record_ms)
  return {'granted', tostring(fence)}
end
local lease = redis.call('HMGET', KEYS[1], 'job', 'holder', 'fence')
if lease[1] ~= job or lease[2] ~= ARGV[3] or lease[3] ~= ARGV[4] then
  return 0
end
if op == 'renew' then
  redis.call('PEXPIRE', KEYS[1], lease_ms)
  redis.call('PEXPIRE', KEYS[2], record_ms)
elseif op == 'release' then
  redis.call('DEL', KEYS[1])
  if redis.call('GET', KEYS[2]) == job then
    redis.call('DEL', KEYS[2])
  end
elseif op == 'write' then
  redis.call('SET', KEYS[4], ARGV[7], 'PX', record_ms)
elseif op == 'append' then
  for i = 7, #ARGV do
    redis.call('RPUSH', KEYS[5], ARGV[i])
  end
  redis.call('PEXPIRE', KEYS[5], record_ms)
else
  return redis.error_reply('REFUSED unknown operation')
end
return 1
