"""The Lua scripts that make multi-key updates atomic.

Each script touches only keys of one namespace (one hash tag, so one Cluster slot). Keys that
depend on data (a session's tenant index, a record hash) are built inside the script from a
prefix passed in ARGV; the fixed keys are declared in KEYS so a cluster client routes the
call to the right node.
"""

from __future__ import annotations

from ._client import Script

__all__ = [
    "CHECKPOINT_ADOPT",
    "CHECKPOINT_DELETE",
    "CHECKPOINT_PAGE",
    "CHECKPOINT_PRUNE",
    "CHECKPOINT_PUT",
    "MEMORY_CANDIDATES",
    "MEMORY_DELETE",
    "MEMORY_EXPORT_STEP",
    "MEMORY_FETCH",
    "MEMORY_INIT",
    "MEMORY_LOAD",
    "MEMORY_PLAN",
    "MEMORY_SAVE",
]

# The checkpoint scripts share these keys: KEYS[2] all session ids, KEYS[3] ids by update
# time, KEYS[4] a hash of session id -> tenant. The tenant map outlives an expired session
# hash, so whichever script meets a vanished session removes it from every index, its
# tenant's included, and a put that re-creates it moves it out of its old tenant's index.
_REAP = """
local function reap(id, tprefix)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  local tenant = redis.call('HGET', KEYS[4], id)
  if tenant then
    redis.call('ZREM', tprefix .. tenant, id)
    redis.call('HDEL', KEYS[4], id)
  end
end
"""

# KEYS: session hash, sessions, updated, tenant map.
# ARGV: payload, expected revision ('' = any), ttl ms ('' = none), has tenant ('0'/'1'),
#       tenant, updated µs, session id, tenant key prefix, write token.
# Returns {1, new revision} or {0, current revision} on a conflict.
CHECKPOINT_PUT = Script(
    """
local cur = redis.call('HMGET', KEYS[1], 'rev', 'write', 'tenant')
local rev = tonumber(cur[1]) or 0
-- The same write token means this very put already applied and only its reply was lost
-- (the client retried after a dropped connection): report success, and apply nothing twice
-- (no conflict for a compare-and-set, no second revision for a plain put).
if cur[2] == ARGV[9] then return {1, rev} end
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= rev then return {0, rev} end
local tenant = ARGV[4] == '1' and ARGV[5] or false
local old = cur[3]
if rev == 0 then
  -- New, or re-created after it expired: its index entries may be stale, its old tenant
  -- is only known to the tenant map.
  redis.call('ZADD', KEYS[2], 0, ARGV[7])
  old = redis.call('HGET', KEYS[4], ARGV[7])
end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'rev', rev + 1, 'updated', ARGV[6],
           'write', ARGV[9])
if ARGV[3] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif rev > 0 then
  redis.call('PERSIST', KEYS[1])
end
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
if old ~= tenant or rev == 0 then
  if old and old ~= tenant then redis.call('ZREM', ARGV[8] .. old, ARGV[7]) end
  if tenant then
    redis.call('HSET', KEYS[1], 'tenant', tenant)
    redis.call('HSET', KEYS[4], ARGV[7], tenant)
    redis.call('ZADD', ARGV[8] .. tenant, 0, ARGV[7])
  else
    redis.call('HDEL', KEYS[1], 'tenant')
    redis.call('HDEL', KEYS[4], ARGV[7])
  end
end
return {1, rev + 1}
"""
)

# Move one session spinekit wrote (a string key holding its JSON) into Spine's layout, as
# if put once: revision 1, updated now, its tenant indexed. Atomic, so racing processes move
# it once and a reader never sees it in both places or in neither.
# KEYS: spinekit key, session hash, sessions, updated, tenant map.
# ARGV: session id, tenant key prefix, updated µs.
# Returns 1 when moved, 0 when there was nothing to move, 2 when Spine already holds the
# session (both copies are then left as they are: nothing is overwritten).
CHECKPOINT_ADOPT = Script(
    """
if redis.call('TYPE', KEYS[1])['ok'] ~= 'string' then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
local raw = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
local ok, doc = pcall(cjson.decode, raw)
local tenant = ok and type(doc) == 'table' and type(doc['tenant_id']) == 'string'
  and doc['tenant_id'] or false
redis.call('HSET', KEYS[2], 'state', raw, 'rev', 1, 'updated', ARGV[3])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
if tenant then
  redis.call('HSET', KEYS[2], 'tenant', tenant)
  redis.call('HSET', KEYS[5], ARGV[1], tenant)
  redis.call('ZADD', ARGV[2] .. tenant, 0, ARGV[1])
end
redis.call('DEL', KEYS[1])
return 1
"""
)

# KEYS: session hash, sessions, updated, tenant map.  ARGV: session id, tenant key prefix.
CHECKPOINT_DELETE = Script(
    _REAP
    + """
redis.call('DEL', KEYS[1])
reap(ARGV[1], ARGV[2])
return 1
"""
)

# One bounded step of list_sessions; it also reaps the index entries of expired sessions
# (PEXPIRE removes a session hash but cannot touch the sorted sets that list it).
# KEYS: the index being listed (all sessions, or one tenant's), sessions, updated, tenant map.
# ARGV: session key prefix, tenant key prefix, tenant filter ('' = none, else 't:' .. tenant),
#       start bound for ZRANGEBYLEX ('-' or '(' .. id), wanted rows, scan budget.
# Returns {rows, resume}: rows are {id, rev, tenant|nil, updated}; resume is the bound to
# continue from, or '' when the index is exhausted.
CHECKPOINT_PAGE = Script(
    _REAP
    + """
local prefix, tprefix, start = ARGV[1], ARGV[2], ARGV[4]
local tenant = ARGV[3] ~= '' and string.sub(ARGV[3], 3) or nil
local wanted, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local rows, scanned = {}, 0
while #rows < wanted and scanned < budget do
  local ids = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0,
                         math.min(budget - scanned, wanted - #rows))
  if #ids == 0 then return {rows, ''} end
  for _, id in ipairs(ids) do
    scanned = scanned + 1
    local h = redis.call('HMGET', prefix .. id, 'rev', 'tenant', 'updated')
    if not h[1] then
      reap(id, tprefix)
      redis.call('ZREM', KEYS[1], id)
    elseif tenant and h[2] ~= tenant then
      redis.call('ZREM', KEYS[1], id)  -- defensive: puts move sessions between tenants
    else
      rows[#rows + 1] = {id, h[1], h[2], h[3]}
    end
  end
  start = '(' .. ids[#ids]
end
return {rows, start}
"""
)

# One bounded step of prune. KEYS: (unused), sessions, updated, tenant map.
# ARGV: session key prefix, tenant key prefix, before (µs, exclusive), batch size.
# Returns {deleted, examined}.
CHECKPOINT_PRUNE = Script(
    _REAP
    + """
local prefix, tprefix, before = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[3], 'LIMIT', 0, ARGV[4])
local deleted = 0
for _, id in ipairs(ids) do
  local updated = redis.call('HGET', prefix .. id, 'updated')
  if not updated then
    reap(id, tprefix)  -- expired: already gone, not counted
  elseif tonumber(updated) < before then
    redis.call('DEL', prefix .. id)
    reap(id, tprefix)
    deleted = deleted + 1
  else
    redis.call('ZADD', KEYS[3], updated, id)  -- defensive: keep the index truthful
  end
end
return {deleted, #ids}
"""
)

# Create the namespace's meta hash unless it exists; return its fields either way.
# KEYS: meta hash.  ARGV: field, value, field, value, ...
MEMORY_INIT = Script(
    """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end
return redis.call('HGETALL', KEYS[1])
"""
)

# Per-namespace counts of (metadata key, value) pairs, kept beside the vector set so search
# can tell a rare filter (scan linearly) from a common one (walk the graph). Fields are
# "<selector>=<value digest>", exactly the attribute pairs FILTER compares.
_COUNT = """
local function count(counts, attrs, delta)
  if not attrs then return end
  for k, v in pairs(cjson.decode(attrs)) do
    if k ~= 's' then
      local field = k .. '=' .. v
      if redis.call('HINCRBY', counts, field, delta) <= 0 then
        redis.call('HDEL', counts, field)
      end
    end
  end
end
"""

# Save (or overwrite) records, each atomically with its vector, orderings and counts.
# KEYS: vector set, by-time index, value counts.
# ARGV: record key prefix, session key prefix, quantization, build EF, M, then 8 per record:
#       id, fp32 vector, attributes JSON, content, metadata JSON, ts µs, session id ('' = none),
#       has session ('0'/'1').
# The record hash keeps the exact FP32 vector too: search re-scores candidates with it.
# Returns how many records were written.
MEMORY_SAVE = Script(
    _COUNT
    + """
local rprefix, sprefix = ARGV[1], ARGV[2]
local n = 0
for i = 6, #ARGV, 8 do
  local id, vector, attrs = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local ts, session, has_session = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7] == '1'
  local rkey = rprefix .. id
  local old = redis.call('HGET', rkey, 'session')
  if old and (not has_session or old ~= session) then
    redis.call('ZREM', sprefix .. old, id)
  end
  count(KEYS[3], redis.call('VGETATTR', KEYS[1], id), -1)  -- an overwrite (a retry)
  redis.call('VADD', KEYS[1], 'FP32', vector, id, ARGV[3], 'EF', ARGV[4], 'M', ARGV[5],
             'SETATTR', attrs)
  count(KEYS[3], attrs, 1)
  redis.call('DEL', rkey)
  redis.call('HSET', rkey, 'content', ARGV[i + 3], 'metadata', ARGV[i + 4], 'ts', ts,
             'vector', vector)
  if has_session then
    redis.call('HSET', rkey, 'session', session)
    redis.call('ZADD', sprefix .. session, ts, id)
  end
  redis.call('ZADD', KEYS[2], ts, id)
  n = n + 1
end
return n
"""
)

# Delete records by id. KEYS: vector set, by-time index, value counts.
# ARGV: record key prefix, session key prefix, a session index to clean as well ('' = none;
#       prune by session passes it, so an id whose record hash is already gone still leaves
#       that index and the loop ends), ids...   Returns how many records existed.
MEMORY_DELETE = Script(
    _COUNT
    + """
local n, present = 0, 0
for i = 4, #ARGV do
  if redis.call('VISMEMBER', KEYS[1], ARGV[i]) == 1 then present = present + 1 end
end
-- Removing every element: drop the set whole. Besides being faster, this avoids VREM churn
-- on small sets, which crashes Redis 8.2.3 and older (redis/redis#15424).
local whole = present > 0 and present == redis.call('VCARD', KEYS[1])
for i = 4, #ARGV do
  local id = ARGV[i]
  local rkey = ARGV[1] .. id
  local session = redis.call('HGET', rkey, 'session')
  if redis.call('DEL', rkey) == 1 then n = n + 1 end
  count(KEYS[3], redis.call('VGETATTR', KEYS[1], id), -1)
  if not whole then redis.call('VREM', KEYS[1], id) end
  redis.call('ZREM', KEYS[2], id)
  if session then redis.call('ZREM', ARGV[2] .. session, id) end
  if ARGV[3] ~= '' then redis.call('ZREM', ARGV[3], id) end
end
if whole then redis.call('DEL', KEYS[1]) end
return n
"""
)

# What a scoped search needs to pick its way, in one round trip.
# KEYS: vector set, value counts.
# ARGV: session sorted set ('' = no session), exhaustive limit, record key prefix,
#       with metadata ('0'/'1'), count fields of the filter...
# Returns {set size, estimate, ids, rows}: estimate is an upper bound on the matching records
# (the session's size and the filter pairs' counts, whichever is least); ids and rows (vector
# and, if asked, metadata) are the whole session when it has at most `limit` records, else nil.
MEMORY_PLAN = Script(
    """
local total = redis.call('VCARD', KEYS[1])
local size = -1
if ARGV[1] ~= '' then size = redis.call('ZCARD', ARGV[1]) end
local estimate = size
for i = 5, #ARGV do
  local c = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if estimate < 0 or c < estimate then estimate = c end
end
if size < 0 or size > tonumber(ARGV[2]) then return {total, estimate, false, false} end
local ids = redis.call('ZRANGE', ARGV[1], 0, -1)
local rows = {}
for i, id in ipairs(ids) do
  if ARGV[4] == '1' then
    rows[i] = redis.call('HMGET', ARGV[3] .. id, 'vector', 'metadata')
  else
    rows[i] = redis.call('HMGET', ARGV[3] .. id, 'vector')
  end
end
return {total, estimate, ids, rows}
"""
)

# The read scripts below replace pipelines of per-record HMGETs: one command and one reply
# per search step, which in redis-py costs far less than 20 parsed replies.
_ROWS = """
local function rows(prefix, ids, ...)
  local out = {}
  for i, id in ipairs(ids) do
    out[i] = redis.call('HMGET', prefix .. id, ...)
  end
  return out
end
"""

# VSIM, then the exact vector of each candidate, in one round trip.
# KEYS: vector set.  ARGV: record key prefix, VSIM arguments after the key...
# Returns {ids, vectors} (a vector is nil for a record deleted meanwhile).
MEMORY_CANDIDATES = Script(
    """
local args = {}
for i = 2, #ARGV do args[#args + 1] = ARGV[i] end
local ids = redis.call('VSIM', KEYS[1], unpack(args))
local vectors = {}
for i, id in ipairs(ids) do
  vectors[i] = redis.call('HGET', ARGV[1] .. id, 'vector')
end
return {ids, vectors}
"""
)

# The records with these ids. KEYS: vector set (routing only).  ARGV: record key prefix, ids...
# Returns one {content, session, metadata, ts} row per id (all nil when it is gone).
MEMORY_FETCH = Script(
    _ROWS
    + """
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
return rows(ARGV[1], ids, 'content', 'session', 'metadata', 'ts')
"""
)

# A session's `limit` newest records, newest first. KEYS: the session's sorted set.
# ARGV: record key prefix, limit.  Returns {ids, rows}.
MEMORY_LOAD = Script(
    _ROWS
    + """
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return {ids, rows(ARGV[1], ids, 'content', 'session', 'metadata', 'ts')}
"""
)

# One bounded step of an export snapshot (`RedisMemory.export_records` before Redis 8.4): the
# ids one ZSCAN step of the by-time index finds, added with score 0 (so in byte order) to the
# snapshot being built. Server-side, so a million ids never cross the network.
# KEYS: by-time index, snapshot.  ARGV: ZSCAN cursor, COUNT, snapshot ttl ms.
# Returns the next cursor ('0' when the scan is complete).
MEMORY_EXPORT_STEP = Script(
    """
local reply = redis.call('ZSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local items = reply[2]
for i = 1, #items, 2 do redis.call('ZADD', KEYS[2], 0, items[i]) end
if #items > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return reply[1]
"""
)
