"""Finished replies of read methods, kept until the database changes.

The database's data version (kernel.db) moves whenever a connection commits (the service's
writer: a use case, a consumer, the relay; or another replica's), so a cached reply is never
older than the data. A reply may be cached only if it depends on nothing but its key and the
database: a read scoped to its caller puts the scope in the key. The cache holds at most
`budget_bytes` of replies, the least recently used going first, and never a reply larger than an
eighth of that.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable


class ReadCache:
    def __init__(self, data_version: Callable[[], int], budget_bytes: int) -> None:
        self._data_version = data_version
        self._budget = budget_bytes
        self._held = 0
        self._version = -1
        self._replies: OrderedDict[Hashable, bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def reply(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The cached reply for `key`, or `compute()`'s, kept for next time. An exception from
        `compute` caches nothing."""
        cached, version = self.lookup(key)
        if cached is not None:
            return cached
        reply = compute()
        self.keep(key, reply, version)
        return reply

    def lookup(self, key: Hashable) -> tuple[bytes | None, int]:
        """(the cached reply for `key` or None, the database's version it was looked up at)."""
        if not self._budget:
            return None, -1
        version = self._data_version()
        if version != self._version:
            self._replies.clear()
            self._held = 0
            self._version = version
        cached = self._replies.get(key)
        if cached is None:
            self.misses += 1
            return None, version
        self._replies.move_to_end(key)
        self.hits += 1
        return cached, version

    def keep(self, key: Hashable, reply: bytes, version: int) -> None:
        """Keeps a reply computed after `lookup` returned `version`, unless the database has
        changed since (a reply computed across an await may then be older than the data)."""
        if version != self._version or len(reply) > self._budget // 8:
            return
        self._replies[key] = reply
        self._held += len(reply)
        while self._held > self._budget:
            self._held -= len(self._replies.popitem(last=False)[1])
