"""A small in-process cache with a time to live: a link that goes viral is answered from memory.

Each process keeps its own (a minute old at most, as the page says). One computation per key at a
time: a burst of requests for a page not in the cache waits for the first one's answer instead of
each reading the database (no stampede).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")

TTL_SECONDS = 60.0
# Different keys are bounded too (query strings vary): the least recently stored go first.
MAX_ENTRIES = 512


class TtlCache(Generic[T]):
    """Values by key, each kept `ttl` seconds."""

    def __init__(
        self, *, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._values: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._locks: dict[Hashable, asyncio.Lock] = {}
        # How many answers were computed (not served from memory): what the tests and the benchmark read.
        self.misses = 0

    def get(self, key: Hashable) -> T | None:
        """The value still fresh for `key`, or None."""
        found = self._values.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= self._clock():
            del self._values[key]
            return None
        return value

    def put(self, key: Hashable, value: T) -> None:
        """Keep `value` for `key` for the cache's time to live."""
        self._values[key] = (self._clock() + self.ttl, value)
        self._values.move_to_end(key)
        while len(self._values) > self.max_entries:
            self._values.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (after a change the next reader must see)."""
        self._values.clear()

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The fresh value for `key`, computing it once however many ask at the same time."""
        value = self.get(key)
        if value is not None:
            return value
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                value = self.get(key)
                if value is None:
                    self.misses += 1
                    value = await compute()
                    self.put(key, value)
                return value
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]
