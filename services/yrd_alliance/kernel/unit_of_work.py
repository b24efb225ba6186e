"""A unit of work: entity changes, their events and idempotency keys in one transaction. Use
cases and event handlers both work through one, so there is one way to emit an event."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from yrd_alliance.kernel import outbox
from yrd_alliance.kernel.db import Connection, Database
from yrd_alliance.kernel.errors import Conflict
from yrd_alliance.kernel.outbox import OutboxRelay
from yrd_alliance.kernel.ports import EmittingUnit
from yrd_alliance.kernel.sql_tables import SqlRows
from yrd_alliance.kernel.tables import M, Table


class UnitOfWork(EmittingUnit):
    """`for_update`: the engine's (kernel.db), so that what the unit reads stays as read until
    it commits, whatever other replicas do."""

    def __init__(self, tx: Connection, for_update: str = "") -> None:
        super().__init__()
        self.tx = tx
        self.for_update = for_update

    def rows(self, table: Table[M]) -> SqlRows[M]:
        return SqlRows(table, self.tx, self.for_update)

    def write_events(self) -> None:
        """Appends the emitted events to the outbox, inside this unit's transaction."""
        for event in self.events:
            outbox.append(self.tx, event)

    def _used(self, request_id: str) -> tuple[str, str] | None:
        row = self.tx.execute(
            "SELECT method, resource FROM idempotency_keys WHERE request_id = ?", (request_id,)
        ).fetchone()
        return None if row is None else (row["method"], str(row["resource"]))

    def remember_result(self, request_id: str, method: str, resource: str) -> None:
        if not request_id:
            return
        kept = self.tx.execute(
            "INSERT INTO idempotency_keys (request_id, method, resource, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (request_id, method, resource, time.time()),
        ).rowcount
        if not kept:  # another replica took this request_id since `earlier_result` looked
            raise Conflict("a request with this request_id is being handled; try again")


@asynccontextmanager
async def unit_of_work(db: Database, relay: OutboxRelay) -> AsyncIterator[UnitOfWork]:
    """Durable when it returns. The body must not await (see kernel.db)."""
    async with db.write() as tx:
        uow = UnitOfWork(tx, db.engine.for_update)
        yield uow
        uow.write_events()
        if uow.events and db.engine.outbox_notice and not relay.running:
            tx.execute(db.engine.outbox_notice)  # the leader is another replica
    if uow.events:
        relay.wake()


@dataclass(frozen=True)
class SqlStorage:
    """The storage port over a service's database: reads see committed data only."""

    db: Database
    relay: OutboxRelay

    def rows(self, table: Table[M]) -> SqlRows[M]:
        return SqlRows(table, self.db.reader)

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return unit_of_work(self.db, self.relay)
