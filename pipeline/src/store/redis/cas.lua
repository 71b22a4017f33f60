-- Compare-and-set of many vessels of ONE partition (all keys share the partition's hash tag).
-- KEYS[1] geo index, KEYS[2] live index, KEYS[3..] vessel documents (same order as the records)
-- ARGV[1] mode: 'json' (RedisJSON) or 'hash'
-- ARGV[2] the records, one line each ('\n'-terminated), fields separated by tabs (JSON never
--   holds a raw tab or newline): mmsi, ts (ms), lon, lat (both empty: no indexable position),
--   position document (JSON), static version, static document (JSON); the version is empty when
--   the state has no static data, the document empty when the client holds it as stored already.
-- A document has two parts with a version each. The position part (ts, doc) is written only when
-- ts is newer than the stored one (a tie loses: a redelivery changes nothing); the geo and live
-- indexes change with it (one GEOADD, ZREM and ZADD for the whole chunk; chunks stay far below
-- unpack's limit of ~8000 values). The static part (sv, st) is written only when its version is higher,
-- whatever the position did: static-only news (types 5, 24) on an unchanged position gets in.
-- Returns one character per record: '0' nothing changed, '1' changed, and +2 when the static
-- part is newer than the stored one but its document was not sent (the client sends it again).
local mode = ARGV[1]
local payload = ARGV[2]
local geo = KEYS[1]
local idx = KEYS[2]
local out = {}
-- index changes of the whole chunk, applied with one command each at the end (each vessel is in
-- a chunk at most once, so the order does not matter): a command per vessel cost more
local geoArgs, nGeo, gone, nGone, idxArgs, nIdx = {}, 0, {}, 0, {}, 0
local pos = 1
local i = 0
local len = #payload
-- one anchored match per record, straight from the payload (no copy of the line first)
local record = '^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\n]*)\n'
while pos <= len do
  local _, last, member, ts, lon, lat, doc, sv, st = string.find(payload, record, pos)
  pos = last + 1
  i = i + 1
  local key = KEYS[2 + i]
  local tsn = tonumber(ts)
  local svn = tonumber(sv)
  local curts, cursv, exists
  if mode == 'json' then
    local stored = redis.call('JSON.GET', key, '$.ts', '$.sv')
    if stored then
      exists = true
      local t = cjson.decode(stored)
      curts = tonumber(t['$.ts'][1])
      cursv = tonumber(t['$.sv'][1])
    end
  else
    local stored = redis.call('HMGET', key, 'ts', 'sv')
    curts = tonumber(stored[1])
    cursv = tonumber(stored[2])
  end
  local newPosition = curts == nil or tsn > curts
  local newStatic = svn ~= nil and (cursv == nil or svn > cursv)
  local status = 0
  if newStatic and st == '' then
    status = 2
    newStatic = false
  end
  if mode == 'json' then
    if newPosition then
      if exists then
        redis.call('JSON.SET', key, '$.ts', ts)
        redis.call('JSON.SET', key, '$.doc', doc)
      else
        redis.call('JSON.SET', key, '$', '{"ts":' .. ts .. ',"doc":' .. doc .. ',"sv":null,"st":null}')
      end
    end
    if newStatic then
      redis.call('JSON.SET', key, '$.sv', sv)
      redis.call('JSON.SET', key, '$.st', st)
    end
  elseif newPosition and newStatic then
    redis.call('HSET', key, 'ts', ts, 'doc', doc, 'sv', sv, 'st', st)
  elseif newPosition then
    redis.call('HSET', key, 'ts', ts, 'doc', doc)
  elseif newStatic then
    redis.call('HSET', key, 'sv', sv, 'st', st)
  end
  if newPosition then
    if lon ~= '' then
      nGeo = nGeo + 3
      geoArgs[nGeo - 2] = lon
      geoArgs[nGeo - 1] = lat
      geoArgs[nGeo] = member
    else
      nGone = nGone + 1
      gone[nGone] = member
    end
    nIdx = nIdx + 2
    idxArgs[nIdx - 1] = ts
    idxArgs[nIdx] = member
  end
  if newPosition or newStatic then status = status + 1 end
  out[i] = status
end
if nGeo > 0 then redis.call('GEOADD', geo, unpack(geoArgs, 1, nGeo)) end
if nGone > 0 then redis.call('ZREM', geo, unpack(gone, 1, nGone)) end
if nIdx > 0 then redis.call('ZADD', idx, unpack(idxArgs, 1, nIdx)) end
return table.concat(out)
