/**
 * Every multi-step change of the Redis store is one Lua script, so it is atomic across instances (Redis runs one
 * script at a time). Timestamps travel as decimal strings and are stored as given: Lua numbers are doubles, and
 * `tostring` of a millisecond timestamp would give "1.7e+12".
 *
 * Keys: every key one script touches shares the hash tag `{state}` (redis-store.ts), so the scripts also run on a
 * cluster slot. Keys built inside a script (family members, the change stream) carry the same tag.
 *
 * Writes that another instance must notice end with `emit`: INCR the version and XADD to the change stream
 * (trimmed to about 10 000 entries) in the same script, so no change is ever stored without its notice.
 */

const EMIT = `
local function emit(kind, id, doc_kind)
  local v = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', '10000', '*', 'v', v, 'k', kind, 'i', id, 'd', doc_kind or '')
end
`;

/** saves a refresh record (KEYS[3] record, KEYS[4] family hash); ARGV from index `a` */
const SAVE_REFRESH = `
local function save_refresh(rec_key, fam_key, a)
  local hash, family, client, scopes, tenant, issued, expires, used, revoked =
    ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  -- a token saved into a family that is already revoked is born revoked (a refresh racing a replay elsewhere)
  if redis.call('HGET', fam_key, '!r') == '1' then revoked = '1' end
  redis.call('DEL', rec_key)
  redis.call('HSET', rec_key, 'f', family, 'c', client, 's', scopes, 'ia', issued, 'ea', expires, 'r', revoked)
  if tenant ~= '' then redis.call('HSET', rec_key, 't', tenant) end
  if used ~= '' then redis.call('HSET', rec_key, 'u', used) end
  redis.call('PEXPIREAT', rec_key, expires)
  redis.call('HSET', fam_key, hash, '1')
  if revoked == '1' then redis.call('HSET', fam_key, '!r', '1') end
  -- the family lives as long as its longest-lived member
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000
  local pttl = redis.call('PTTL', fam_key)
  if pttl < 0 or now + pttl < tonumber(expires) then redis.call('PEXPIREAT', fam_key, expires) end
end
`;

/** revokes every member of a family; `rec_prefix` builds member keys; false when the family is unknown */
const REVOKE_FAMILY = `
local function revoke_family(fam_key, rec_prefix, family_id)
  if redis.call('EXISTS', fam_key) == 0 then return false end
  redis.call('HSET', fam_key, '!r', '1')
  for _, member in ipairs(redis.call('HKEYS', fam_key)) do
    if member ~= '!r' then
      local rec = rec_prefix .. member
      if redis.call('EXISTS', rec) == 1 then redis.call('HSET', rec, 'r', '1') end
    end
  end
  emit('family', family_id)
  return true
end
`;

/** KEYS: stream, version, client; ARGV: at, client id */
export const REVOKE_CLIENT = `${EMIT}
local nb = redis.call('HGET', KEYS[3], 'nb')
local at = ARGV[1]
if nb and tonumber(nb) > tonumber(at) then at = nb end
redis.call('HSET', KEYS[3], 'r', ARGV[1], 'nb', at)
emit('client', ARGV[2])
return 1`;

/** KEYS: stream, version, client; ARGV: client id */
export const RESTORE_CLIENT = `${EMIT}
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('HDEL', KEYS[3], 'r')
emit('client', ARGV[1])
return 1`;

/** KEYS: stream, version, client; ARGV: client id, revokedAt or '', notBefore or '' (store migrate) */
export const SET_CLIENT = `${EMIT}
local r, nb = redis.call('HGET', KEYS[3], 'r'), redis.call('HGET', KEYS[3], 'nb')
if (r or '') == ARGV[2] and (nb or '') == ARGV[3] then return 0 end
redis.call('DEL', KEYS[3])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[3], 'r', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], 'nb', ARGV[3]) end
emit('client', ARGV[1])
return 1`;

/**
 * KEYS: stream, version, jti; ARGV: jti, deadline (expiry + grace, ms). Keeps the later deadline; the key expires
 * at the deadline, so revoked jtis leave Redis with their tokens. Returns 1 when it stored something new.
 */
export const REVOKE_TOKEN = `${EMIT}
local old = redis.call('GET', KEYS[3])
if old and tonumber(old) >= tonumber(ARGV[2]) then return 0 end
local t = redis.call('TIME')
if tonumber(ARGV[2]) <= tonumber(t[1]) * 1000 then return 0 end
redis.call('SET', KEYS[3], ARGV[2], 'PXAT', ARGV[2])
emit('token', ARGV[1])
return 1`;

/** KEYS: stream, version, record, family; ARGV: the record (see SAVE_REFRESH) */
export const SAVE_REFRESH_TOKEN = `${EMIT}${SAVE_REFRESH}
save_refresh(KEYS[3], KEYS[4], 1)
return 1`;

/** KEYS: stream, version, record; ARGV: at */
export const MARK_REFRESH_USED = `
if redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[3], 'u', ARGV[1]) == 0 then return 0 end
return 1`;

/** KEYS: stream, version, family; ARGV: record key prefix, family id */
export const REVOKE_REFRESH_FAMILY = `${EMIT}${REVOKE_FAMILY}
revoke_family(KEYS[3], ARGV[1], ARGV[2])
return 1`;

/**
 * Refresh rotation in one step. KEYS: stream, version, successor record, successor family, used record;
 * ARGV: record key prefix, family key prefix, at, successor (9 fields). A replay (already used) saves nothing and
 * revokes the used token's family; an unknown token saves nothing.
 */
export const ROTATE_REFRESH = `${EMIT}${SAVE_REFRESH}${REVOKE_FAMILY}
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[5], 'u', ARGV[3]) == 0 then
  local family = redis.call('HGET', KEYS[5], 'f')
  revoke_family(ARGV[2] .. family, ARGV[1], family)
  return 0
end
save_refresh(KEYS[3], KEYS[4], 4)
return 1`;

/** KEYS: counter; ARGV: ttl ms. A fixed-window counter. */
export const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * GCRA (see gcra.ts) with the clock taken from Redis, so instances on skewed hosts agree; a refused request
 * changes nothing. KEYS: the key's TAT; ARGV: limit, window ms, burst. Returns {allowed, retry ms, remaining}.
 */
export const CONSUME_RATE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[2]) / tonumber(ARGV[1])
local tolerance = tonumber(ARGV[3]) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nxt = tat + interval
if nxt - now > tolerance then return {0, math.ceil(nxt - now - tolerance), 0} end
redis.call('SET', KEYS[1], string.format('%.3f', nxt), 'PX', math.ceil(nxt - now) + 1)
return {1, 0, math.floor((tolerance - (nxt - now)) / interval)}`;

/** KEYS: stream, version, document, index; ARGV: expected version, body, kind, id. Returns the new version or -1. */
export const PUT_DOCUMENT = `${EMIT}
local v = tonumber(redis.call('HGET', KEYS[3], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[3], 'v', v + 1, 'b', ARGV[2])
redis.call('SADD', KEYS[4], ARGV[4])
emit('document', ARGV[4], ARGV[3])
return v + 1`;

/** KEYS: stream, version, document, index; ARGV: version, body, kind, id. store migrate: newer versions win. */
export const IMPORT_DOCUMENT = `${EMIT}
local v = tonumber(redis.call('HGET', KEYS[3], 'v') or '0')
if v >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[3], 'v', ARGV[1], 'b', ARGV[2])
redis.call('SADD', KEYS[4], ARGV[4])
emit('document', ARGV[4], ARGV[3])
return 1`;

/** KEYS: stream, version, document, index; ARGV: expected version or '', kind, id */
export const DELETE_DOCUMENT = `${EMIT}
local v = redis.call('HGET', KEYS[3], 'v')
if not v then return 0 end
if ARGV[1] ~= '' and tonumber(v) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[3])
redis.call('SREM', KEYS[4], ARGV[3])
emit('document', ARGV[3], ARGV[2])
return 1`;

/** KEYS: index; ARGV: document key prefix. Returns {id, version, body, ...} sorted by id. */
export const LIST_DOCUMENTS = `
local ids = redis.call('SMEMBERS', KEYS[1])
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  local d = redis.call('HMGET', ARGV[1] .. id, 'v', 'b')
  if d[1] then
    out[#out + 1] = id
    out[#out + 1] = d[1]
    out[#out + 1] = d[2]
  end
end
return out`;

/** KEYS: log; ARGV: seq, body. Appends at exactly last + 1 (the log is a hash seq -> body with no gaps). */
export const APPEND_LOG = `
if redis.call('HLEN', KEYS[1]) ~= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** KEYS: log. Returns {seq, body} of the last entry, or {0}. */
export const LAST_LOG = `
local n = redis.call('HLEN', KEYS[1])
if n == 0 then return {0} end
return {n, redis.call('HGET', KEYS[1], tostring(n))}`;

/** KEYS: log; ARGV: from seq, limit. Returns {seq, body, ...}. */
export const READ_LOG = `
local n = redis.call('HLEN', KEYS[1])
local from = math.max(1, tonumber(ARGV[1]))
local last = math.min(n, from + tonumber(ARGV[2]) - 1)
local out = {}
for s = from, last do
  out[#out + 1] = s
  out[#out + 1] = redis.call('HGET', KEYS[1], tostring(s))
end
return out`;

/**
 * The periodic check (every ~500 ms): the change version, and this instance's heartbeat in the set of live
 * instances (for the local share of rate limits while Redis is down). KEYS: version, instances; ARGV: instance id,
 * stale-after ms. Returns {version, live instances}.
 */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 10)
return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('ZCARD', KEYS[2])}`;
