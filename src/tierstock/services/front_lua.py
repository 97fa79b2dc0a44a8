"""The Lua scripts of the Redis reservation front (services/front.py).

Each script runs atomically inside Redis, so one script call is one decision no other
buyer can interleave with. Every key of one front shares the hash tag ``{ns}``, so the
scripts also run on a Redis Cluster.

Keys (``P`` = ``tsf:{ns}:``):

* ``P off`` — present while the front is switched off (``tierstock front drain``);
* ``P ids`` — order ids reserved from the database's ``orders`` sequence, handed out one
  per reservation;
* ``P k:<shop>:<key>`` — the answer given for an Idempotency-Key (a retry replays it);
* ``P stream`` — the durable hand-off: one entry per reservation (``e=sale``) or per
  lease remainder given back (``e=release``), folded into the database and deleted;
* ``P t:<sku>:<tier>`` — the lease being sold: ``lease`` id, ``next`` unit, ``last`` unit;
* ``P q:<sku>:<tier>`` — leases waiting their turn, ``"<id>:<first>:<last>"``;
* ``P dry:<sku>:<tier>`` — set for a moment when the database had nothing to lease;
* ``P stranded`` — per lease, units skipped because a line did not fit in what was left
  and the next lease does not continue it (given back at the drain). A line may span
  two leases whose units are contiguous — the usual case in a burst — so tiers fill in
  order exactly as on the database path.
"""

from __future__ import annotations

# KEYS: off, ids, idem, stream, stranded, then (t, q, dry) per tier in the form's order.
# ARGV: qty, request_hash, idem_ttl_s, shop, key, buyer, has_buyer, actor, sku, price,
#       paid_us, then (tier, ship_by_us) per tier.
# Returns {'off'} | {'replay', record} | {'ids'} | {'lease', i} | {'out'}
#       | {'ok', order_id, i, sold_after}
RESERVE = """
local qty = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return {'off'} end
local prior = redis.call('GET', KEYS[3])
if prior then return {'replay', prior} end

-- one sale: units (after - qty, after] of the tier; `head` of them from `lease`, the
-- rest (a line spanning two contiguous leases) from `lease2`
local function sell(id, i, lease, head, lease2, after)
  local tier, ship = ARGV[10 + 2 * i], ARGV[11 + 2 * i]
  local rec = table.concat({id, ARGV[2], tier, after, ship, ARGV[11], ARGV[10], ARGV[9],
                            qty, ARGV[7], ARGV[6]}, '|')
  redis.call('SET', KEYS[3], rec, 'EX', ARGV[3])
  redis.call('XADD', KEYS[4], '*', 'e', 'sale', 'o', id, 'l', lease, 'm', head,
             'l2', lease2, 'p', after, 'r', tier, 'y', ship, 's', ARGV[4], 'k', ARGV[5],
             'h', ARGV[2], 'b', ARGV[6], 'hb', ARGV[7], 'a', ARGV[8], 'u', ARGV[9],
             'c', ARGV[10], 'q', qty, 't', ARGV[11])
  return {'ok', id, i, after}
end

local ntiers = (#KEYS - 5) / 3
for i = 1, ntiers do
  local t, q, dry = KEYS[3 * i + 3], KEYS[3 * i + 4], KEYS[3 * i + 5]
  while true do
    local cur = redis.call('HMGET', t, 'lease', 'next', 'last')
    local rem, last = 0, tonumber(cur[3])
    if cur[1] then rem = last - tonumber(cur[2]) + 1 end
    if rem >= qty then
      local id = redis.call('LPOP', KEYS[2])
      if not id then return {'ids'} end
      local after = tonumber(cur[2]) + qty - 1
      redis.call('HSET', t, 'next', after + 1)
      return sell(id, i, cur[1], qty, '0', after)
    end
    local queued = redis.call('LINDEX', q, 0)
    if not queued then break end
    local lid, first, lst = string.match(queued, '(%d+):(%d+):(%d+)')
    first, lst = tonumber(first), tonumber(lst)
    if rem > 0 and first == last + 1 and rem + lst - first + 1 >= qty then
      local id = redis.call('LPOP', KEYS[2])
      if not id then return {'ids'} end
      redis.call('LPOP', q)
      local after = last + qty - rem
      redis.call('HSET', t, 'lease', lid, 'next', after + 1, 'last', lst)
      return sell(id, i, cur[1], rem, lid, after)
    end
    redis.call('LPOP', q)
    if rem > 0 then redis.call('HINCRBY', KEYS[5], cur[1], rem) end
    redis.call('HSET', t, 'lease', lid, 'next', first, 'last', lst)
  end
  if redis.call('EXISTS', dry) == 0 then return {'lease', i} end
end
return {'out'}
"""

# KEYS: off, q.  ARGV: "<id>:<first>:<last>".  1 = queued, 0 = the front is off.
ADD_LEASE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
"""

# KEYS: off, stranded, stream, then (t, q) per SKU tier.  Switches the front off and
# puts every unsold leased unit on the stream as a release.  Returns units released.
DRAIN = """
redis.call('SET', KEYS[1], '1')
local released = 0
local function release(lease, n)
  if n > 0 then
    redis.call('XADD', KEYS[3], '*', 'e', 'release', 'l', lease, 'n', n)
    released = released + n
  end
end
for j = 4, #KEYS, 2 do
  local cur = redis.call('HMGET', KEYS[j], 'lease', 'next', 'last')
  if cur[1] then release(cur[1], tonumber(cur[3]) - tonumber(cur[2]) + 1) end
  for _, queued in ipairs(redis.call('LRANGE', KEYS[j + 1], 0, -1)) do
    local lid, first, lst = string.match(queued, '(%d+):(%d+):(%d+)')
    release(lid, tonumber(lst) - tonumber(first) + 1)
  end
  redis.call('DEL', KEYS[j], KEYS[j + 1])
end
local stranded = redis.call('HGETALL', KEYS[2])
for k = 1, #stranded, 2 do release(stranded[k], tonumber(stranded[k + 1])) end
redis.call('DEL', KEYS[2])
return released
"""

# KEYS: stranded, stream, then (t, q) per SKU tier.  One consistent picture of what the
# front holds, for the reconciliation: {lease, units, ...} flattened, then the stream.
SNAPSHOT = """
local held = {}
local function add(lease, n) held[lease] = (held[lease] or 0) + n end
for j = 3, #KEYS, 2 do
  local cur = redis.call('HMGET', KEYS[j], 'lease', 'next', 'last')
  if cur[1] then add(cur[1], tonumber(cur[3]) - tonumber(cur[2]) + 1) end
  for _, queued in ipairs(redis.call('LRANGE', KEYS[j + 1], 0, -1)) do
    local lid, first, lst = string.match(queued, '(%d+):(%d+):(%d+)')
    add(lid, tonumber(lst) - tonumber(first) + 1)
  end
end
local stranded = redis.call('HGETALL', KEYS[1])
for k = 1, #stranded, 2 do add(stranded[k], tonumber(stranded[k + 1])) end
local entries = redis.call('XRANGE', KEYS[2], '-', '+')
for _, entry in ipairs(entries) do
  local f = entry[2]
  local fields = {}
  for k = 1, #f, 2 do fields[f[k]] = f[k + 1] end
  if fields['e'] == 'sale' then
    add(fields['l'], tonumber(fields['m']))
    if fields['l2'] ~= '0' then add(fields['l2'], tonumber(fields['q']) - tonumber(fields['m'])) end
  else add(fields['l'], tonumber(fields['n'])) end
end
local out = {}
for lease, n in pairs(held) do table.insert(out, lease); table.insert(out, n) end
return out
"""
