"""Transactional outbox: events commit with the entity change; a relay publishes them in order.

The relay pipelines a batch of publishes, waits for their acks, and marks as sent only the run
of rows acked from the start of the batch; the rest are retried after a back-off. A re-published
event keeps its Nats-Msg-Id, so JetStream drops the copy.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from dataclasses import dataclass

from kernel.db import Database, Migration
from kernel.events import Event
from kernel.nats_link import NatsLink
from kernel.tasks import cancel_and_wait

log = logging.getLogger(__name__)

MIGRATIONS = [
    Migration(
        "kernel",
        1,
        """
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            headers TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at REAL NOT NULL,
            sent_at REAL
        );
        CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
        CREATE TABLE applied_events (
            consumer TEXT NOT NULL,
            event_id TEXT NOT NULL,
            applied_at REAL NOT NULL,
            PRIMARY KEY (consumer, event_id)
        );
        CREATE TABLE idempotency_keys (
            request_id TEXT PRIMARY KEY,
            method TEXT NOT NULL,
            resource TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """,
    )
]


def append(tx: sqlite3.Connection, event: Event) -> None:
    """Adds an event to the outbox inside the caller's transaction."""
    tx.execute(
        "INSERT INTO outbox (event_id, subject, headers, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (event.id, event.subject, json.dumps(event.headers()), event.payload, time.time()),
    )


@dataclass(frozen=True)
class _Row:
    seq: int
    subject: str
    headers: dict[str, str]
    payload: bytes


class OutboxRelay:
    def __init__(
        self,
        db: Database,
        link: NatsLink,
        *,
        batch: int = 256,
        ack_timeout_s: float = 5.0,
        retention_s: float = 7 * 24 * 3600.0,
    ) -> None:
        self._db = db
        self._link = link
        self._batch = batch
        self._ack_timeout_s = ack_timeout_s
        self._retention_s = retention_s
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    def wake(self) -> None:
        """Called after a commit that appended events."""
        self._wake.set()

    def pending(self) -> int:
        row = self._db.reader.execute(
            "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        ).fetchone()
        return int(row[0])

    async def stop(self, flush_timeout_s: float = 5.0) -> None:
        """Publishes what is pending (bounded by the timeout), then stops."""
        if self._link.is_connected:
            deadline = time.monotonic() + flush_timeout_s
            while self.pending() and time.monotonic() < deadline:
                self.wake()
                await asyncio.sleep(0.01)
        self._stopping = True
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        backoff = 0.05
        last_purge = 0.0
        while not self._stopping:
            rows = self._unsent()
            if not rows:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except TimeoutError:
                    pass
                if time.monotonic() - last_purge > 600:
                    await self._purge_sent()
                    last_purge = time.monotonic()
                continue
            reason: Exception | None = None
            try:
                js = await self._link.jetstream()
                acked = await self._publish(js, rows)
            except Exception as exc:
                acked, reason = 0, exc
            if acked:
                await self._mark_sent(rows[acked - 1].seq)
                self.published += acked
            if acked < len(rows):
                log.warning("outbox relay: publish failed (%s); retrying in %.2fs", reason, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            else:
                backoff = 0.05

    async def _publish(self, js: object, rows: list[_Row]) -> int:
        """Returns how many rows, counted from the first, were acked."""
        futures = [
            await js.publish_async(row.subject, row.payload, headers=row.headers)  # type: ignore[attr-defined]
            for row in rows
        ]
        _, pending = await asyncio.wait(futures, timeout=self._ack_timeout_s)
        for future in pending:
            future.cancel()
        acked = 0
        for future in futures:
            if future in pending or future.cancelled() or future.exception() is not None:
                break
            acked += 1
        return acked

    def _unsent(self) -> list[_Row]:
        cursor = self._db.reader.execute(
            "SELECT seq, subject, headers, payload FROM outbox WHERE sent_at IS NULL "
            "ORDER BY seq LIMIT ?",
            (self._batch,),
        )
        return [_Row(r[0], r[1], json.loads(r[2]), r[3]) for r in cursor]

    async def _mark_sent(self, up_to_seq: int) -> None:
        async with self._db.write() as tx:
            tx.execute(
                "UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND seq <= ?",
                (time.time(), up_to_seq),
            )

    async def _purge_sent(self) -> None:
        """Sent events are kept for the retention period so a lost stream can be re-filled."""
        async with self._db.write() as tx:
            tx.execute(
                "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
                (time.time() - self._retention_s,),
            )
