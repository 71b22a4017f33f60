-- Compare-and-set of many vessels of ONE partition (all keys share the partition's hash tag).
-- KEYS[1] geo index, KEYS[2] live index, KEYS[3..] vessel documents (same order as the ARGV groups)
-- ARGV[1] mode: 'json' (RedisJSON JSON.SET) or 'hash' (HSET ts + doc)
-- ARGV[2..] groups of 5: mmsi, ts (ms), lon, lat (empty strings: no indexable position), document JSON
-- A document is written only when its ts is newer than the stored one (ties lose: a redelivery
-- changes nothing). The geo and live indexes change with it. Returns the number written.
local mode = ARGV[1]
local geo = KEYS[1]
local idx = KEYS[2]
local written = 0
local n = (#ARGV - 1) / 5
for i = 0, n - 1 do
  local key = KEYS[3 + i]
  local a = 2 + i * 5
  local member = ARGV[a]
  local ts = tonumber(ARGV[a + 1])
  local current
  if mode == 'json' then
    local stored = redis.call('JSON.GET', key, '$.ts')
    if stored then current = tonumber(string.match(stored, '%-?[%d%.eE%+%-]+')) end
  else
    current = tonumber(redis.call('HGET', key, 'ts'))
  end
  if current == nil or ts > current then
    if mode == 'json' then
      redis.call('JSON.SET', key, '$', ARGV[a + 4])
    else
      redis.call('HSET', key, 'ts', ARGV[a + 1], 'doc', ARGV[a + 4])
    end
    if ARGV[a + 2] ~= '' then
      redis.call('GEOADD', geo, ARGV[a + 2], ARGV[a + 3], member)
    else
      redis.call('ZREM', geo, member)
    end
    redis.call('ZADD', idx, ts, member)
    written = written + 1
  end
end
return written
