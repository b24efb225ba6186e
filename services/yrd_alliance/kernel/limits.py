"""Per-caller write limits: a token bucket per principal, refilled at `rate_per_s` up to
`burst`. Reads are not limited: they are cached and cheap, and a write costs a durable commit
and an event for every region."""

from __future__ import annotations

import time
from collections import OrderedDict

from yrd_alliance.kernel.errors import RateLimited

READ_PREFIXES = ("Get", "List", "Search")


def is_write(method: str) -> bool:
    """By the API's naming (Get…, List…, Search… read; every other method changes something)."""
    return not method.startswith(READ_PREFIXES)


class WriteLimiter:
    def __init__(self, rate_per_s: float, burst: int, capacity: int = 100_000) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._capacity = capacity
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, who: str, now: float | None = None) -> None:
        """Spends one write of `who`'s allowance, or raises RateLimited saying when to retry."""
        now = time.monotonic() if now is None else now
        tokens, since = self._buckets.pop(who, (self._burst, now))
        tokens = min(self._burst, tokens + (now - since) * self._rate)
        if tokens < 1.0:
            self._buckets[who] = (tokens, now)
            wait_s = (1.0 - tokens) / self._rate
            raise RateLimited(
                f"more than {self._rate:g} writes per second (bursts of {self._burst:g}) from "
                f"this caller; retry in {wait_s:.2f} s",
                wait_s,
            )
        self._buckets[who] = (tokens - 1.0, now)
        if len(self._buckets) > self._capacity:
            self._buckets.popitem(last=False)  # the longest idle, whose bucket is full again
