"""The read cache hands back a finished reply until another connection commits."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from yrd_alliance.kernel.db import SqliteEngine
from yrd_alliance.kernel.read_cache import ReadCache


@pytest.fixture
def connections(tmp_path: Path) -> tuple[sqlite3.Connection, sqlite3.Connection]:
    writer = sqlite3.connect(tmp_path / "cache.db", isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE items (name TEXT)")
    reader = sqlite3.connect(tmp_path / "cache.db", isolation_level=None)
    return writer, reader


def _data_version(reader: sqlite3.Connection) -> Callable[[], int]:
    return lambda: SqliteEngine.data_version(None, reader)  # type: ignore[arg-type]


def names(reader: sqlite3.Connection) -> bytes:
    return ",".join(r[0] for r in reader.execute("SELECT name FROM items ORDER BY name")).encode()


def test_a_reply_is_reused_until_another_connection_commits(
    connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    writer, reader = connections
    cache = ReadCache(_data_version(reader), budget_bytes=1024)
    computed: list[bytes] = []

    def compute() -> bytes:
        computed.append(names(reader))
        return computed[-1]

    writer.execute("INSERT INTO items VALUES ('a')")
    assert cache.reply("all", compute) == b"a"
    assert cache.reply("all", compute) == b"a"
    assert len(computed) == 1
    writer.execute("INSERT INTO items VALUES ('b')")
    assert cache.reply("all", compute) == b"a,b"
    assert len(computed) == 2


def test_a_failed_read_is_not_kept(
    connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    cache = ReadCache(_data_version(connections[1]), budget_bytes=1024)

    def fail() -> bytes:
        raise LookupError("no such page")

    with pytest.raises(LookupError):
        cache.reply("page", fail)
    assert cache.reply("page", lambda: b"found") == b"found"


def test_the_least_recently_used_reply_goes_first_when_the_budget_is_spent(
    connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    cache = ReadCache(_data_version(connections[1]), budget_bytes=800)  # replies of up to 100 bytes
    cache.reply("one", lambda: b"1" * 100)
    cache.reply("two", lambda: b"2" * 100)
    for key in "abcdef":
        cache.reply(key, lambda: b"x" * 100)
    cache.reply("one", lambda: b"stale")  # a hit: "one" is now the most recent
    cache.reply("g", lambda: b"x" * 100)  # 900 bytes: "two" goes
    assert cache.reply("one", lambda: b"recomputed") == b"1" * 100
    assert cache.reply("two", lambda: b"recomputed") == b"recomputed"


def test_a_reply_too_large_for_the_budget_is_not_kept(
    connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    cache = ReadCache(_data_version(connections[1]), budget_bytes=800)
    assert cache.reply("big", lambda: b"x" * 101) == b"x" * 101
    assert cache.reply("big", lambda: b"again") == b"again"


def test_a_zero_budget_computes_every_time(
    connections: tuple[sqlite3.Connection, sqlite3.Connection],
) -> None:
    cache = ReadCache(_data_version(connections[1]), budget_bytes=0)
    assert cache.reply("k", lambda: b"first") == b"first"
    assert cache.reply("k", lambda: b"second") == b"second"
