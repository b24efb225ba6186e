"""A service's database: durable commits, versioned migrations, on one of two engines.

SQLite (the default: one file per service, WAL) or PostgreSQL (a `postgresql://` URL in place of
the file; kernel.postgres). The SQL the services write is the subset both engines speak, with
SQLite's `?` and `:name` placeholders; a migration may add statements only one engine runs.

Two connections: `conn` is the only writer; `reader` serves reads and sees committed data only
(SQLite's WAL, or PostgreSQL's MVCC, lets it read while a commit is under way). Writes use group
commit: the units of work that start while no commit is running share one transaction; its
COMMIT (one fsync under synchronous=FULL, or PostgreSQL's WAL flush) runs in a worker thread,
and the units that arrive meanwhile form the next group. Each unit runs inside a savepoint, so a
unit that fails rolls back alone; its caller continues only after the shared COMMIT returned, so
nothing is acknowledged before it is durable.

A unit's body must not await: units are nested savepoints of one transaction, and a unit that
yielded could be rolled back together with a later one. `write()` checks this.

Replicas (PostgreSQL only) each run this writer over the same database. Inside a unit, reading
an entity locks its row until the commit (SELECT … FOR UPDATE), so two replicas changing one
entity take turns and neither writes over the other; a unit that meets a deadlock or another
replica's use of its request_id fails with Conflict (ABORTED: nothing kept, try again). The
workers that must run once per service (kernel.leadership) hold the engine's lease.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from itertools import count
from pathlib import Path
from typing import Any, Protocol

from yrd_alliance.kernel.errors import Conflict
from yrd_alliance.kernel.leadership import Lease
from yrd_alliance.kernel.tables import Migration

log = logging.getLogger(__name__)


class Cursor(Protocol):
    """What a statement returns: its rows (each indexable by position and by column name) and
    how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection as the services use it: sqlite3's, or kernel.postgres' over psycopg."""

    @property
    def in_transaction(self) -> bool: ...

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def close(self) -> None: ...


class Engine(Protocol):
    """What differs between SQLite and PostgreSQL below the SQL the services write."""

    name: str
    begin: str  # the statement that opens a write transaction
    for_update: str  # what makes a read inside a unit of work lock the row it reads

    @property
    def error(self) -> type[Exception]:
        """What a failed statement or commit raises."""
        ...

    def connect(self, *, read_only: bool) -> Connection: ...

    def script(self, migration: Migration) -> list[str]:
        """The migration's statements in this engine's dialect."""
        ...

    @property
    def conflicts(self) -> tuple[type[Exception], ...]:
        """What a statement raises when another replica's transaction is in the way."""
        ...

    def data_version(self, conn: Connection) -> int:
        """A number that moves whenever any connection commits a change."""
        ...

    def lease(self, name: str) -> Lease:
        """The right to run this service's once-only workers (kernel.leadership)."""
        ...

    def migrating(self, conn: Connection) -> AbstractContextManager[None]:
        """Holds off other replicas' migrations while this one migrates."""
        ...

    @property
    def outbox_notice(self) -> str | None:
        """A statement for a unit of work that appended events: once it commits, the leader's
        relay hears of it (see listen_outbox); None where one process does every write."""
        ...

    def listen_outbox(self, wake: Callable[[], None]) -> Callable[[], None] | None:
        """Calls `wake`, from a thread of its own, after each commit by any replica that
        appended events; returns what stops it. None where one process does every write."""
        ...


def is_postgres_url(location: Path | str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


class Database:
    def __init__(self, location: Path | str, *, sync_full: bool = True) -> None:
        """`location`: a SQLite file, or a `postgresql://` URL."""
        self.engine: Engine
        if is_postgres_url(location):
            from yrd_alliance.kernel.postgres import PostgresEngine

            self.engine = PostgresEngine(str(location))
        else:
            self.engine = SqliteEngine(Path(location), sync_full=sync_full)
        self.conn = self.engine.connect(read_only=False)
        self.reader = self.connect_reader()
        self._open_units: list[str] = []
        self._waiting: list[asyncio.Future[None]] = []
        self._committing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._names = count()
        self.commits = 0
        # Told of each commit: its duration and how many units of work it made durable.
        self.on_commit: Callable[[float, int], None] = lambda seconds, units: None
        # Held by the worker thread while it commits: close() must not pull the connection
        # from under a COMMIT whose awaiting task was cancelled (that crashes the process).
        self._commit_lock = threading.Lock()
        self._closed = False

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        """One atomic unit of work, durable when this returns; see the module docstring."""
        while self._committing:
            await self._idle.wait()
        conn = self.conn
        if not conn.in_transaction:
            conn.execute(self.engine.begin)
            asyncio.get_running_loop().call_soon(self._start_commit)
        savepoint = f"unit{next(self._names)}"
        conn.execute(f"SAVEPOINT {savepoint}")
        self._open_units.append(savepoint)
        try:
            yield conn
        except self.engine.conflicts as exc:
            self._close_unit(savepoint, rollback=True)
            raise Conflict(f"a concurrent write got in the way ({exc}); try again") from exc
        except BaseException:
            self._close_unit(savepoint, rollback=True)
            raise
        self._close_unit(savepoint, rollback=False)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(done)
        await done

    def _close_unit(self, savepoint: str, *, rollback: bool) -> None:
        if self._open_units[-1] != savepoint:
            raise RuntimeError("a unit of work awaited inside its body; units must not await")
        self._open_units.pop()
        if rollback and not self.conn.in_transaction:
            return  # the transaction is gone with its connection: nothing to roll back
        if rollback:
            self.conn.execute(f"ROLLBACK TO {savepoint}")
        self.conn.execute(f"RELEASE {savepoint}")

    def _start_commit(self) -> None:
        self._committing = True
        self._idle.clear()
        self._commit_task = asyncio.ensure_future(self._commit())

    def _commit_in_thread(self) -> None:
        with self._commit_lock:
            if not self._closed:  # else close() has committed the transaction already
                self.conn.execute("COMMIT")

    async def _commit(self) -> None:
        waiting, self._waiting = self._waiting, []
        began = time.perf_counter()
        try:
            await asyncio.to_thread(self._commit_in_thread)
        except Exception as exc:  # every unit of the group fails with it, none is lost silently
            try:
                if not self._closed and self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
            except Exception:
                log.warning("rolling back a failed commit failed too", exc_info=True)
            _settle(waiting, exc)
        else:
            self.commits += 1
            self.on_commit(time.perf_counter() - began, len(waiting))
            _settle(waiting, None)
        finally:
            self._committing = False
            self._idle.set()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A plain transaction, for work before the service serves (migrations)."""
        self.conn.execute(self.engine.begin)
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def migrate(self, migrations: Sequence[Migration]) -> None:
        with self.engine.migrating(self.conn):
            self._migrate(migrations)

    def _migrate(self, migrations: Sequence[Migration]) -> None:
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
                for statement in self.engine.script(migration):
                    tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                    (migration.component, migration.version),
                )

    def connect_reader(self) -> Connection:
        """A read-only connection of its own, e.g. for work in another thread; its owner
        closes it."""
        return self.engine.connect(read_only=True)

    def data_version(self) -> int:
        """Moves whenever any connection (this service's writer, another replica's) commits."""
        return self.engine.data_version(self.reader)

    def service_key(self, name: str) -> bytes:
        """A random key this service made for itself on first use (e.g. the one that signs its
        page tokens), kept so a restart does not invalidate what it signed."""
        with self.transaction() as tx:
            tx.execute(
                "INSERT INTO service_keys (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (name, secrets.token_bytes(32)),
            )
            row = tx.execute("SELECT value FROM service_keys WHERE name = ?", (name,)).fetchone()
        return bytes(row[0])

    def close(self) -> None:
        with self._commit_lock:  # waits for a COMMIT running in a worker thread
            if self._closed:
                return
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")
                _settle(self._waiting, None)
            self._closed = True
            self.reader.close()
            self.conn.close()


class SqliteEngine:
    """One process owns the file: its writer is the only one, so reads need no locks, and it
    always holds the lease."""

    name = "sqlite"
    error = sqlite3.Error
    begin = "BEGIN IMMEDIATE"
    for_update = ""
    conflicts: tuple[type[Exception], ...] = ()

    def __init__(self, path: Path, *, sync_full: bool) -> None:
        self.path = path
        self.sync_full = sync_full
        path.parent.mkdir(parents=True, exist_ok=True)

    def connect(self, *, read_only: bool) -> Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=5000")
        if read_only:
            conn.execute("PRAGMA query_only=ON")
        else:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if self.sync_full else 'NORMAL'}")
            conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def script(self, migration: Migration) -> list[str]:
        return _statements(migration.sql) + _statements(migration.sqlite)

    def data_version(self, conn: Connection) -> int:
        return int(conn.execute("PRAGMA data_version").fetchone()[0])

    def lease(self, name: str) -> Lease:
        return SoleLease()

    def migrating(self, conn: Connection) -> AbstractContextManager[None]:
        return nullcontext()

    outbox_notice = None  # the writer's own relay is woken by each unit of work

    def listen_outbox(self, wake: Callable[[], None]) -> Callable[[], None] | None:
        return None


class SoleLease:
    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def _statements(script: str) -> list[str]:
    """The script's statements; a trigger's body keeps its own semicolons."""
    statements, pending = [], ""
    for part in script.split(";"):
        pending += part + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip())
    return statements
