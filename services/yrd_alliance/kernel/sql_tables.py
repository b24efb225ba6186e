"""The SQL adapter of the `Rows` port: a declared table in a service's database, on either
engine (kernel.db). Every write is one upsert statement; `apply_if_newer` adds the version check
to it. Column names are quoted: some (`end`) are words PostgreSQL reserves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yrd_alliance.kernel.db import Connection
from yrd_alliance.kernel.tables import M, Stored, StoredRows, Table, Tag, Where, check_extras


class SqlRows(StoredRows[M]):
    """A table in a service's database; `for_update` (kernel.db's Engine) makes reading an
    entity by its name lock its row, as a unit of work does on PostgreSQL."""

    def __init__(self, table: Table[M], conn: Connection, for_update: str = "") -> None:
        super().__init__(table)
        self.conn = conn
        self.for_update = for_update

    def _load(self, key: str) -> tuple[bytes, int, dict[str, Any]] | None:
        t = self.table
        row = self.conn.execute(t.sql_find + self.for_update, (key,)).fetchone()
        if row is None:
            return None
        return row[0], int(row[1]), {c: row[c] for c in t.extras}

    def version(self, name: str) -> int | None:
        t = self.table
        row = self.conn.execute(
            f"SELECT version FROM {t.name} WHERE {t.key} = ?{self.for_update}", (t.key_of(name),)
        ).fetchone()
        return None if row is None else int(row[0])

    def put(self, message: M, version: int, **extra: object) -> None:
        self._upsert(message, version, extra, only_if_newer=False)

    def apply_if_newer(self, message: M, version: int, **extra: object) -> bool:
        return self._upsert(message, version, extra, only_if_newer=True)

    def _upsert(
        self, message: M, version: int, extra: Mapping[str, object], *, only_if_newer: bool
    ) -> bool:
        t = self.table
        check_extras(t, extra)
        values: dict[str, object] = {
            t.key: t.key_of(t.name_of(message)),
            **t.values(message),
            **extra,
            "version": version,
        }
        if t.data:
            values["data"] = message.SerializeToString()
        names = [f'"{c}"' for c in values]
        updates = ", ".join(f"{c} = excluded.{c}" for c in names[1:])
        sql = (
            f"INSERT INTO {t.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
            f"ON CONFLICT ({t.key}) DO UPDATE SET {updates}"
        )
        if only_if_newer:
            sql += f" WHERE excluded.version > {t.name}.version"
        return self.conn.execute(sql, list(values.values())).rowcount > 0

    def page(self, query: Where, after: str | None, limit: int) -> list[tuple[str, bytes]]:
        key = self.table.key
        rows = self._select(f"{key}, data", query, after, f"ORDER BY {key} LIMIT {int(limit)}")
        return [(row[0], row[1]) for row in rows]

    def select(self, query: Where) -> list[Stored[M]]:
        rows = self._select("data, version", query, None, f"ORDER BY {self.table.key}")
        return [Stored(self.table.message.FromString(row[0]), int(row[1])) for row in rows]

    def columns(self, query: Where) -> list[dict[str, Any]]:
        rows = self._select("*", query, None, f"ORDER BY {self.table.key}")
        return [{k: row[k] for k in row.keys() if k != "data"} for row in rows]

    def count(self, query: Where) -> int:
        return int(self._select("count(*)", query, None, "")[0][0])

    def _select(self, what: str, query: Where, after: str | None, rest: str) -> list[Any]:
        clauses, params = [f"{self.table.key} > ?"], [after or ""]
        for column, value in query.active():
            if isinstance(value, Tag):
                clauses.append(f'"{column}" LIKE ?')
                params.append(f"%,{value.value},%")
            else:
                clauses.append(f'"{column}" = ?')
                params.append(value)  # type: ignore[arg-type]
        sql = f"SELECT {what} FROM {self.table.name} WHERE {' AND '.join(clauses)} {rest}"
        return self.conn.execute(sql, params).fetchall()
