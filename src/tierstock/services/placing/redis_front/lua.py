"""The Lua scripts of the Redis reservation front (redis_front/front.py).

Each script runs atomically inside Redis, so one script call is one decision no other
buyer can interleave with. Every key of one front shares the hash tag ``{ns}``, so the
scripts also run on a Redis Cluster.

A tier's leases are sold as *runs*: a lease whose units follow the current run's last
unit extends the run (the usual case in a burst), so one line may take units of two
leases and tiers fill in order exactly as on the database path. Each sale records how
many units it took from each lease (``L = "<lease>:<units>,…"``), which is all the
database needs to account for them — positions alone could repeat once units go back.

Keys (``P`` = ``tsf:{ns}:``):

* ``P off`` — present while the front is switched off (``tierstock front drain``);
* ``P ids`` — order ids reserved from the database's ``orders`` sequence, one per sale;
* ``P k:<shop>:<key>`` — the answer given for an Idempotency-Key (a retry replays it);
* ``P stream`` — the durable hand-off: one entry per sale (``e=sale``) or per batch of
  unsold units to give back (``e=release``), folded into the database and deleted;
* ``P t:<sku>:<tier>`` — the run being sold: units ``next`` .. ``last``;
* ``P s:<sku>:<tier>`` — the run's leases, ``"<lease>:<first>:<last>"``, oldest first;
* ``P q:<sku>:<tier>`` — leases waiting their turn, same form;
* ``P dry:<sku>:<tier>`` — set for a moment when the database had nothing to lease;
* ``P stranded`` — per lease, units left behind when the next lease did not continue
  the run (only after units went back to the tier): given back at the drain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

Call = tuple[list[str], list[Any]]  # (KEYS, ARGV) of one RESERVE call


def queue_calls(pipe: Any, sha: str, calls: Sequence[Call]) -> None:
    """EVALSHA each call on a pipeline (sync or asyncio). Given the script object, a
    pipeline would first ask Redis whether the script exists: a second round trip."""
    for keys, args in calls:
        pipe.evalsha(sha, len(keys), *keys, *args)


def refused_for_lost_script(answers: Sequence[Any]) -> list[int]:
    """Positions of the calls Redis refused because it lost its script cache: they ran
    nowhere, so sending them again once the script is loaded does nothing twice."""
    return [i for i, a in enumerate(answers) if isinstance(a, redis.exceptions.NoScriptError)]


# Shared by the scripts: the units of the current run ``nxt .. upto`` per lease, as
# "lease:units" pairs, dropping the leases used up when ``consume`` is true.
_RUN = """
local function per_lease(s, nxt, upto, consume)
  local out = {}
  for _, seg in ipairs(redis.call('LRANGE', s, 0, -1)) do
    local lid, f, l = string.match(seg, '(%d+):(%d+):(%d+)')
    f, l = tonumber(f), tonumber(l)
    local low, high = math.max(nxt, f), math.min(upto, l)
    if low <= high then table.insert(out, lid .. ':' .. (high - low + 1)) end
    if consume and l <= upto then redis.call('LPOP', s) end
  end
  return out
end
"""

# KEYS: off, ids, idem, stream, stranded, then (t, s, q, dry) per tier in form order.
# ARGV: qty, request_hash, idem_ttl_s, shop, key, buyer, has_buyer, actor, sku, price,
#       paid_us, then (tier, ship_by_us) per tier.
# Returns {'off'} | {'replay', record} | {'ids'} | {'lease', i} | {'out'}
#       | {'ok', order_id, i, sold_after, units left in the run, leases queued, ids left}
RESERVE = (
    _RUN
    + """
local qty = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then return {'off'} end
local prior = redis.call('GET', KEYS[3])
if prior then return {'replay', prior} end
local ntiers = (#KEYS - 5) / 4
for i = 1, ntiers do
  local t, s, q, dry = KEYS[4 * i + 2], KEYS[4 * i + 3], KEYS[4 * i + 4], KEYS[4 * i + 5]
  local tier, ship = ARGV[10 + 2 * i], ARGV[11 + 2 * i]
  while true do
    local cur = redis.call('HMGET', t, 'next', 'last')
    local nxt, last = tonumber(cur[1]), tonumber(cur[2])
    local rem = 0
    if nxt then rem = last - nxt + 1 end
    if rem >= qty then
      local id = redis.call('LPOP', KEYS[2])
      if not id then return {'ids'} end
      local after = nxt + qty - 1
      local taken = table.concat(per_lease(s, nxt, after, true), ',')
      redis.call('HSET', t, 'next', after + 1)
      local rec = table.concat({id, ARGV[2], tier, after, ship, ARGV[11], ARGV[10],
                                ARGV[9], qty, ARGV[7], ARGV[6]}, '|')
      redis.call('SET', KEYS[3], rec, 'EX', ARGV[3])
      redis.call('XADD', KEYS[4], '*', 'e', 'sale', 'o', id, 'L', taken, 'p', after,
                 'r', tier, 'y', ship, 's', ARGV[4], 'k', ARGV[5], 'h', ARGV[2],
                 'b', ARGV[6], 'hb', ARGV[7], 'a', ARGV[8], 'u', ARGV[9], 'c', ARGV[10],
                 'q', qty, 't', ARGV[11])
      return {'ok', id, i, after, last - after, redis.call('LLEN', q),
              redis.call('LLEN', KEYS[2])}
    end
    local queued = redis.call('LPOP', q)
    if not queued then break end
    local _, first, lst = string.match(queued, '(%d+):(%d+):(%d+)')
    first, lst = tonumber(first), tonumber(lst)
    if not (rem > 0 and first == last + 1) then
      if rem > 0 then  -- the new lease does not continue the run: leave the rest behind
        for _, pair in ipairs(per_lease(s, nxt, last, false)) do
          local lid, n = string.match(pair, '(%d+):(%d+)')
          redis.call('HINCRBY', KEYS[5], lid, n)
        end
      end
      redis.call('DEL', s)
      nxt = first
    end
    redis.call('RPUSH', s, queued)
    redis.call('HSET', t, 'next', nxt, 'last', lst)
  end
  if redis.call('EXISTS', dry) == 0 then return {'lease', i} end
end
return {'out'}
"""
)

# KEYS: off, q.  ARGV: "<lease>:<first>:<last>".  1 = queued, 0 = the front is off.
ADD_LEASE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
"""

# Shared by DRAIN and SNAPSHOT: unsold units per lease, "lease:units" pairs, from the
# (t, s, q) keys of each SKU tier and the stranded hash.
_HELD = (
    _RUN
    + """
local function held(first_key, stranded)
  local out = {}
  for j = first_key, #KEYS, 3 do
    local cur = redis.call('HMGET', KEYS[j], 'next', 'last')
    if cur[1] then
      for _, pair in ipairs(per_lease(KEYS[j + 1], tonumber(cur[1]), tonumber(cur[2]),
                                      false)) do
        table.insert(out, pair)
      end
    end
    for _, queued in ipairs(redis.call('LRANGE', KEYS[j + 2], 0, -1)) do
      local lid, f, l = string.match(queued, '(%d+):(%d+):(%d+)')
      table.insert(out, lid .. ':' .. (tonumber(l) - tonumber(f) + 1))
    end
  end
  local s = redis.call('HGETALL', stranded)
  for k = 1, #s, 2 do table.insert(out, s[k] .. ':' .. s[k + 1]) end
  return out
end
"""
)

# KEYS: off, stranded, stream, then (t, s, q) per SKU tier.  Switches the front off and
# puts every unsold leased unit on the stream as one release.  Returns the units.
DRAIN = (
    _HELD
    + """
redis.call('SET', KEYS[1], '1')
local pairs_ = held(4, KEYS[2])
local units = 0
for _, pair in ipairs(pairs_) do units = units + tonumber(string.match(pair, ':(%d+)$')) end
if #pairs_ > 0 then
  redis.call('XADD', KEYS[3], '*', 'e', 'release', 'L', table.concat(pairs_, ','))
end
for j = 4, #KEYS do redis.call('DEL', KEYS[j]) end
redis.call('DEL', KEYS[2])
return units
"""
)

# KEYS: stranded, stream, then (t, s, q) per SKU tier.  What the front holds per lease,
# in one consistent read: unsold, stranded, and on the stream ("lease:units" pairs).
SNAPSHOT = (
    _HELD
    + """
local out = held(3, KEYS[1])
for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do
  local f = entry[2]
  for k = 1, #f, 2 do
    if f[k] == 'L' and f[k + 1] ~= '' then table.insert(out, f[k + 1]) end
  end
end
return out
"""
)
