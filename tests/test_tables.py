"""The two adapters of a declared table give the same answers: versions only move forward, a
name must match as a whole, filters and keyset pages agree."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from alliance.membership.v1 import membership_pb2 as pb
from yrd_alliance.kernel.db import _statements
from yrd_alliance.kernel.memory import MemoryRows
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.sql_tables import SqlRows
from yrd_alliance.kernel.tables import Rows, Tag
from yrd_alliance.membership.store import CARRIERS, MIGRATIONS


@pytest.fixture(params=["sqlite", "memory"])
def rows(request: pytest.FixtureRequest) -> Iterator[Rows[pb.Carrier]]:
    if request.param == "memory":
        yield MemoryRows(CARRIERS, {})
        return
    conn = sqlite3.connect(":memory:")
    conn.row_factory = sqlite3.Row
    for migration in MIGRATIONS:
        for statement in _statements(migration.sql):
            conn.execute(statement)
    yield SqlRows(CARRIERS, conn)
    conn.close()


def carrier(name: str, city: str, chains: list[int] | None = None) -> pb.Carrier:
    return pb.Carrier(name=name, display_name="x", city=city, industrial_chains=chains or [])


def test_an_older_or_repeated_version_changes_nothing(rows: Rows[pb.Carrier]) -> None:
    name = f"regions/sh/carriers/{new_id()}"
    assert rows.apply_if_newer(carrier(name, "上海"), 2)
    assert not rows.apply_if_newer(carrier(name, "苏州"), 1), "older"
    assert not rows.apply_if_newer(carrier(name, "无锡"), 2), "repeated"
    stored = rows.require(name)
    assert (stored.message.city, stored.version) == ("上海", 2)
    assert rows.apply_if_newer(carrier(name, "杭州"), 3)
    assert rows.require(name).message.city == "杭州"


def test_the_same_id_under_another_regions_name_is_not_found(rows: Rows[pb.Carrier]) -> None:
    name = f"regions/sh/carriers/{new_id()}"
    rows.put(carrier(name, "上海"), 1)
    assert rows.find(name.replace("/sh/", "/hz/")) is None
    assert rows.version(name) == 1


def test_filters_and_keyset_pages_agree(rows: Rows[pb.Carrier]) -> None:
    names = sorted(f"regions/sh/carriers/{new_id()}" for _ in range(5))
    for i, name in enumerate(names):
        rows.put(carrier(name, "上海", [1 + i % 2]), 1)
    query = CARRIERS.where(region="sh", chains=Tag(2))
    first = rows.page(query, None, 1)
    rest = rows.page(query, first[0][0], 10)
    assert [key for key, _ in first + rest] == [n.rsplit("/", 1)[-1] for n in names[1::2]]
    assert rows.count(query) == 2
