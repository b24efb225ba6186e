"""Idempotent event consumer: a durable pull consumer whose effects commit exactly once.

For each fetched batch, the handlers' effects and the ids of the events they applied commit in
one SQLite transaction; the messages are acked only after that commit. A redelivered event (the
process died between commit and ack, or the publisher sent it twice) finds its id recorded and
is skipped, then acked.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from kernel.db import Database
from kernel.events import Event
from kernel.nats_link import NatsLink
from kernel.tasks import cancel_and_wait

log = logging.getLogger(__name__)

Handler = Callable[[sqlite3.Connection, Event], None]


class EventConsumer:
    def __init__(
        self,
        db: Database,
        link: NatsLink,
        *,
        stream: str,
        durable: str,
        handlers: Mapping[str, Handler],
        filter_subjects: Sequence[str] = (),
        batch: int = 256,
        ack_wait_s: float = 30.0,
        after_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._link = link
        self._stream = stream
        self._durable = durable
        self._handlers = dict(handlers)
        self._filter_subjects = list(filter_subjects)
        self._batch = batch
        self._ack_wait_s = ack_wait_s
        self._after_commit = after_commit  # e.g. wake the outbox relay: handlers may emit
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.applied = 0
        self.skipped = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self._durable}")

    async def stop(self) -> None:
        # The flag, not only cancel(): a cancelled fetch inside nats-py can surface as a timeout.
        self._stopping = True
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                js = await self._link.jetstream()
                config = ConsumerConfig(
                    durable_name=self._durable,
                    ack_policy=AckPolicy.EXPLICIT,
                    deliver_policy=DeliverPolicy.ALL,
                    ack_wait=self._ack_wait_s,
                    max_ack_pending=self._batch * 4,
                    filter_subjects=self._filter_subjects or None,
                )
                subscription = await js.pull_subscribe(
                    "", durable=self._durable, stream=self._stream, config=config
                )
                while not self._stopping:
                    try:
                        messages = await self._next_batch(subscription)
                    except (TimeoutError, NatsTimeoutError):
                        continue
                    await self._apply_batch(
                        [Event.from_nats(m.subject, m.headers, m.data) for m in messages]
                    )
                    for message in messages:
                        await message.ack()
                    backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._stopping:
                    return
                log.warning("consumer %s: %s; retrying in %.1fs", self._durable, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _next_batch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        """The next event as soon as it is stored, then the ones already waiting behind it, up
        to the batch size. (A fetch of more than one can hold a delivered event until its pull
        request expires, waiting for the rest: a lone event then waited most of a second.)"""
        first = await subscription.fetch(1, timeout=1.0)
        waiting = min(first[0].metadata.num_pending, self._batch - 1)
        if waiting <= 0:
            return first
        try:  # exactly as many as were waiting, so the fetch ends as soon as they are in
            return first + await subscription.fetch(waiting, timeout=1.0)
        except (TimeoutError, NatsTimeoutError):
            return first

    async def _apply_batch(self, events: list[Event]) -> None:
        async with self._db.write() as tx:
            for event in events:
                seen = tx.execute(
                    "SELECT 1 FROM applied_events WHERE consumer = ? AND event_id = ?",
                    (self._durable, event.id),
                ).fetchone()
                if seen:
                    self.skipped += 1
                    continue
                handler = self._handlers.get(event.type)
                if handler is not None:
                    handler(tx, event)
                tx.execute(
                    "INSERT INTO applied_events (consumer, event_id, applied_at) VALUES (?, ?, ?)",
                    (self._durable, event.id, time.time()),
                )
                self.applied += 1
        self._after_commit()
