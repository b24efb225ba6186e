"""In-memory adapters of the storage ports, for fast use-case tests: the same `Table`
declarations, kept in dicts, with the same answers as the SQL adapters (key order, filters,
versions, NOT_FOUND). A unit of work that raises leaves nothing behind, as a rolled-back
transaction does."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.ports import EmittingUnit
from yrd_alliance.kernel.tables import M, Stored, StoredRows, Table, Tag, Where, check_extras

# table name → key → (bytes, version, columns)
Data = dict[str, dict[str, tuple[bytes, int, dict[str, Any]]]]


class MemoryRows(StoredRows[M]):
    def __init__(self, table: Table[M], data: Data) -> None:
        super().__init__(table)
        self._rows = data.setdefault(table.name, {})

    def _load(self, key: str) -> tuple[bytes, int, dict[str, Any]] | None:
        row = self._rows.get(key)
        return (
            None
            if row is None
            else (row[0], row[1], {c: row[2][c] for c in self.table.extras if c in row[2]})
        )

    def version(self, name: str) -> int | None:
        row = self._rows.get(self.table.key_of(name))
        return None if row is None else row[1]

    def put(self, message: M, version: int, **extra: object) -> None:
        check_extras(self.table, extra)
        key = self.table.key_of(self.table.name_of(message))
        columns = {**self.table.values(message), **extra}
        self._rows[key] = (message.SerializeToString(), version, columns)

    def apply_if_newer(self, message: M, version: int, **extra: object) -> bool:
        known = self.version(self.table.name_of(message))
        if known is not None and known >= version:
            return False
        self.put(message, version, **extra)
        return True

    def page(self, query: Where, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        return [(key, data) for key, data, _ in self._matching(query, after)][:limit]

    def select(self, query: Where) -> list[Stored[M]]:
        return [
            Stored(self.table.message.FromString(data), columns["version"])
            for _, data, columns in self._matching(query)
        ]

    def columns(self, query: Where) -> list[dict[str, Any]]:
        return [columns for _, _, columns in self._matching(query)]

    def count(self, query: Where) -> int:
        return len(self._matching(query))

    def _matching(
        self, query: Where, after: str | None = None
    ) -> list[tuple[str, bytes, dict[str, Any]]]:
        found = []
        for key in sorted(k for k in self._rows if k > (after or "")):
            data, version, stored = self._rows[key]
            columns = {self.table.key: key, **stored, "version": version}
            if all(_matches(columns.get(c), v) for c, v in query.active()):
                found.append((key, data, columns))
        return found


def _matches(stored: object, wanted: object) -> bool:
    if isinstance(wanted, Tag):
        return f",{wanted.value}," in str(stored)
    return stored == wanted


class MemoryStore:
    """A service's database in memory: `reads()` and `unit_of_work()` as the Runtime's."""

    def __init__(self) -> None:
        self.data: Data = {}
        self.idempotency: dict[str, tuple[str, str]] = {}
        self.events: list[Event] = []  # every committed event, in order

    def rows(self, table: Table[M]) -> MemoryRows[M]:
        return MemoryRows(table, self.data)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[MemoryUnitOfWork]:
        uow = MemoryUnitOfWork(self, copy.deepcopy(self.data), dict(self.idempotency))
        yield uow
        self.data, self.idempotency = uow.data, uow.idempotency
        self.events.extend(uow.events)


class MemoryUnitOfWork(EmittingUnit):
    def __init__(
        self, store: MemoryStore, data: Data, idempotency: dict[str, tuple[str, str]]
    ) -> None:
        super().__init__()
        self.data = data
        self.idempotency = idempotency

    def rows(self, table: Table[M]) -> MemoryRows[M]:
        return MemoryRows(table, self.data)

    def _used(self, request_id: str) -> tuple[str, str] | None:
        return self.idempotency.get(request_id)

    def remember_result(self, request_id: str, method: str, resource: str) -> None:
        if request_id:
            self.idempotency[request_id] = (method, resource)
