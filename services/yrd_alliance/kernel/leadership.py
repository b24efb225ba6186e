"""Which replica of a service runs its workers: the outbox relay, the event consumers and the
housekeeping. Every replica serves the API; one at a time, the leader, also runs the workers, so
events leave in commit order and are applied in stream order, as with a single process.

The leader holds its database's lease (kernel.db): on SQLite the process owns the file alone
and always leads; on PostgreSQL the lease is an advisory lock on a connection of its own, which
the server lets go the moment that connection closes (the replica died, or lost the network).
The other replicas try for it every `poll_s`; a leader that finds its lease gone stops its
workers at once. Between the two, work done twice is harmless: a re-published event keeps its
Nats-Msg-Id (JetStream drops the copy) and an event is applied once (kernel.consumer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from yrd_alliance.kernel.tasks import cancel_and_wait, pause

log = logging.getLogger(__name__)


class Lease(Protocol):
    """Blocking calls: run them off the event loop."""

    def acquire(self) -> bool:
        """Takes the lease if nobody holds it; whether this holder has it now."""
        ...

    def held(self) -> bool:
        """Whether this holder still has it."""
        ...

    def release(self) -> None: ...


class Leadership:
    def __init__(
        self,
        lease: Lease,
        start: Callable[[], Awaitable[None]],
        stop: Callable[[], Awaitable[None]],
        *,
        name: str,
        poll_s: float = 1.0,
    ) -> None:
        self._lease = lease
        self._start_workers = start
        self._stop_workers = stop
        self._name = name
        self._poll_s = poll_s
        self._task: asyncio.Task[None] | None = None
        self.leading = False
        self.terms = 0  # how many times this replica became the leader

    async def start(self) -> None:
        """Leads at once if the lease is free; then keeps watching it."""
        await self._check()
        self._task = asyncio.create_task(self._run(), name=f"leadership-{self._name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        if self.leading:
            self.leading = False
            await self._stop_workers()
        await asyncio.to_thread(self._lease.release)

    async def _run(self) -> None:
        while True:
            await pause(self._poll_s)
            try:
                await self._check()
            except Exception:  # e.g. the database unreachable: tried again at the next tick
                log.exception("%s: checking the lease failed", self._name)

    async def _check(self) -> None:
        if self.leading:
            if not await asyncio.to_thread(self._lease.held):
                log.warning("%s: lease lost; this replica stops its workers", self._name)
                self.leading = False
                await self._stop_workers()
        elif await asyncio.to_thread(self._lease.acquire):
            log.info("%s: this replica leads: it runs the relay and the consumers", self._name)
            self.leading = True
            self.terms += 1
            await self._start_workers()
