"""SQLite storage: one file per service, WAL, durable commits, versioned migrations.

Calls run on the event loop thread: a commit with synchronous=FULL costs one fsync (~0.1 ms),
cheaper than a hop to a worker thread, and one connection means one writer, so transactions
never interleave.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Migration:
    component: str  # "kernel" or a service name; each numbers its own migrations from 1
    version: int
    sql: str


class Database:
    def __init__(self, path: Path | str, *, sync_full: bool = True) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={'FULL' if sync_full else 'NORMAL'}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=5000")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit: every statement inside commits together or not at all."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def migrate(self, migrations: Sequence[Migration]) -> None:
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " component TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (component, version))"
        )
        applied = {
            (row["component"], row["version"])
            for row in self.conn.execute("SELECT component, version FROM schema_migrations")
        }
        for migration in migrations:
            if (migration.component, migration.version) in applied:
                continue
            with self.transaction() as tx:
                for statement in _statements(migration.sql):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                    (migration.component, migration.version),
                )

    def close(self) -> None:
        self.conn.close()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
