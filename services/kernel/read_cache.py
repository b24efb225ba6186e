"""Finished replies of read methods, kept until the database changes.

`PRAGMA data_version` on the read connection moves whenever another connection (the service's
writer: a use case, a consumer, the relay) commits, so a cached reply is never older than the
data. A reply may be cached only if it depends on nothing but its key and the database: a read
scoped to its caller puts the scope in the key.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Hashable


class ReadCache:
    def __init__(self, conn: sqlite3.Connection, capacity: int) -> None:
        self._conn = conn
        self._capacity = capacity
        self._version = -1
        self._replies: OrderedDict[Hashable, bytes] = OrderedDict()

    def reply(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The cached reply for `key`, or `compute()`'s, kept for next time (least recently
        used go first). An exception from `compute` caches nothing."""
        if not self._capacity:
            return compute()
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._replies.clear()
            self._version = version
        cached = self._replies.get(key)
        if cached is not None:
            self._replies.move_to_end(key)
            return cached
        reply = self._replies[key] = compute()
        if len(self._replies) > self._capacity:
            self._replies.popitem(last=False)
        return reply
