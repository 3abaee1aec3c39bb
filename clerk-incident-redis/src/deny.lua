-- Adds one batch of revoked sessions to the fleet's denylist, atomically: the stream entry,
-- the trimming of entries past the denial TTL, the key's expiry and the push are one step.
--
-- KEYS[1] the denial stream
-- ARGV[1] the session ids as a JSON array (checked by the client: Clerk ids only)
-- ARGV[2] the denial TTL in milliseconds, ARGV[3] the channel
--
-- The entry id comes from this server's clock, so that every instance reads the batches in
-- one order and each denial ends one TTL after the store recorded it.
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[2])
if string.sub(ARGV[1], 1, 1) ~= '[' then
  return redis.error_reply('REFUSED the sessions are not a JSON array')
end
local min_id = tostring(now_ms - ttl) .. '-0'
local id = redis.call('XADD', KEYS[1], 'MINID', '~', min_id, '*', 'sessions', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PUBLISH', ARGV[3], id .. ' ' .. ARGV[1])
return id
