"""A short-lived, in-process cache of product cards (商品卡) for live-stream viewers.

Every viewer of a live stream reads the same card, hundreds of times a second; the
card is advisory (docs/rules.md §1), so it may be a fraction of a second old. With
``Runtime.card_cache_seconds`` (``TIERSTOCK_CARD_CACHE_SECONDS``, 0.5 s on the server,
0 — no cache — in tests and the CLI) a card is served from memory while it is younger
than that, measured on the runtime's clock from the card's own ``as_of``.

What staleness means for the buyer: the figures and the next unit's promise on a
cached card are those of its ``as_of`` — a unit shown available may have been sold
since, or a presale date may have moved on by the time the buyer pays. Nothing is
promised by the card: an order always allocates from the database with the
conditional UPDATE and gets its tier and ship-by from that allocation, so a stale card
can never oversell, it can only be refused ("sold out") or get a later promise than
displayed. ``as_of`` lets any client show or check the card's age.

Rules:

- Key: (engine, shop_id, product_id). A card is only ever built by
  :func:`~tierstock.services.card.product_card` for that very shop, so another shop
  asking for the product misses the cache and gets the loader's refusal; a refusal or
  any other error is never stored.
- Single flight: when an entry expires, one caller rebuilds it while the others keep
  getting the previous card, as long as it is younger than twice the TTL; callers with
  no card to fall back on wait for that one rebuild. A stampede makes one read.
- A card older than ``2 × TTL`` is never served (a slow database makes callers wait,
  as they would without a cache); a card dated in the future (the clock stepped back)
  counts as expired.
- At most ``max_entries`` cards are held; the oldest built is dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from tierstock.services.card import ProductCard, product_card
from tierstock.services.runtime import Runtime

Loader = Callable[[Runtime, int, int], ProductCard]
Key = tuple[object, int, int]  # (engine, shop id, product id)
MAX_ENTRIES = 4096
# A previous card may still be served while its rebuild runs, up to this many TTLs old.
STALE_LIMIT = 2.0


def load_card(runtime: Runtime, shop_id: int, product_id: int) -> ProductCard:
    """The fresh card: one read-only unit of work."""
    return product_card(shop_id, product_id, runtime.uow(readonly=True))


@dataclass(eq=False)
class _Flight:
    """One rebuild in progress; waiters take its card, or load on their own if it failed."""

    done: threading.Event = field(default_factory=threading.Event)
    card: ProductCard | None = None


class CardCache:
    """Cards by (engine, shop, product), thread-safe, with single-flight rebuilds."""

    def __init__(self, loader: Loader = load_card, *, max_entries: int = MAX_ENTRIES) -> None:
        self._loader = loader
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._cards: OrderedDict[Key, ProductCard] = OrderedDict()
        self._flights: dict[Key, _Flight] = {}
        self.builds = 0  # cards loaded from the database, cached or not

    def __len__(self) -> int:
        return len(self._cards)

    def get(self, runtime: Runtime, shop_id: int, product_id: int) -> ProductCard:
        """A card at most ``runtime.card_cache_seconds`` old (see the module's rules)."""
        ttl = runtime.card_cache_seconds
        if ttl <= 0:
            return self._load(runtime, shop_id, product_id)
        key = (runtime.engine, shop_id, product_id)
        with self._lock:
            now = runtime.clock()  # read under the lock: never before a stored card's as_of
            card = self._cards.get(key)
            age = (now - card.as_of).total_seconds() if card is not None else -1.0
            if card is not None and 0 <= age < ttl:
                return card
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = _Flight()
                leader = True
            elif card is not None and 0 <= age < STALE_LIMIT * ttl:
                return card
            else:
                leader = False
        if leader:
            return self._rebuild(runtime, key, flight)
        flight.done.wait()
        if flight.card is not None:
            return flight.card
        card = self._load(runtime, shop_id, product_id)  # that rebuild failed: try ourselves
        with self._lock:
            self._store(key, card)
        return card

    def _rebuild(self, runtime: Runtime, key: Key, flight: _Flight) -> ProductCard:
        """Load the card for ``key`` as the one caller its flight belongs to."""
        try:
            card = self._load(runtime, key[1], key[2])
        except BaseException:
            with self._lock:
                self._cards.pop(key, None)
                del self._flights[key]
            flight.done.set()
            raise
        with self._lock:
            self._store(key, card)
            del self._flights[key]
        flight.card = card
        flight.done.set()
        return card

    def _store(self, key: Key, card: ProductCard) -> None:
        """Keep ``card`` as the newest entry, dropping the oldest past the bound."""
        self._cards[key] = card
        self._cards.move_to_end(key)
        while len(self._cards) > self._max_entries:
            self._cards.popitem(last=False)

    def _load(self, runtime: Runtime, shop_id: int, product_id: int) -> ProductCard:
        with self._lock:
            self.builds += 1
        return self._loader(runtime, shop_id, product_id)


CARDS = CardCache()


def cached_product_card(runtime: Runtime, shop_id: int, product_id: int) -> ProductCard:
    """The product card as viewers read it: from the process-wide cache when the
    runtime's ``card_cache_seconds`` is above 0, else freshly built."""
    return CARDS.get(runtime, shop_id, product_id)
