"""Membership's tables. Each row keeps the resource as its protobuf bytes plus the columns that
filters and paging need, so reads return exactly what was written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from kernel.db import Migration
from kernel.snapshots import SnapshotSource, wrapping

MIGRATIONS = [
    Migration(
        "membership",
        1,
        """
        CREATE TABLE carriers (
            id TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            level INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            state INTEGER NOT NULL,
            chains TEXT NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX carriers_by_region ON carriers (region, id);
        CREATE TABLE startups (
            id TEXT PRIMARY KEY,
            carrier TEXT NOT NULL,
            needs TEXT NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX startups_by_carrier ON startups (carrier, id)
        """,
    )
]


@dataclass(frozen=True)
class CarrierFilter:
    region: str  # "-" for every region
    level: int = 0
    kind: int = 0
    chain: int = 0
    state: int = 0

    def key(self) -> str:
        return f"carriers|{self.region}|{self.level}|{self.kind}|{self.chain}|{self.state}"


def _tags(values: Iterable[int]) -> str:
    return "," + ",".join(str(v) for v in values) + ","


def get_carrier(conn: sqlite3.Connection, carrier_id: str) -> tuple[pb.Carrier, int] | None:
    row = conn.execute("SELECT data, version FROM carriers WHERE id = ?", (carrier_id,)).fetchone()
    if row is None:
        return None
    return pb.Carrier.FromString(row["data"]), int(row["version"])


def put_carrier(
    conn: sqlite3.Connection, carrier_id: str, region: str, carrier: pb.Carrier, version: int
) -> None:
    conn.execute(
        "INSERT INTO carriers (id, region, level, kind, state, chains, version, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "level = excluded.level, kind = excluded.kind, state = excluded.state, "
        "chains = excluded.chains, version = excluded.version, data = excluded.data",
        (
            carrier_id,
            region,
            carrier.level,
            carrier.kind,
            carrier.state,
            _tags(carrier.industrial_chains),
            version,
            carrier.SerializeToString(),
        ),
    )


def list_carriers(
    conn: sqlite3.Connection, query: CarrierFilter, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses: list[str] = ["id > ?"]
    params: list[object] = [after or ""]
    if query.region != "-":
        clauses.append("region = ?")
        params.append(query.region)
    for column, value in (("level", query.level), ("kind", query.kind), ("state", query.state)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.chain:
        clauses.append("instr(chains, ?) > 0")
        params.append(f",{query.chain},")
    rows = conn.execute(
        f"SELECT id, data FROM carriers WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [(row["id"], row["data"]) for row in rows]


def get_startup(conn: sqlite3.Connection, startup_id: str) -> tuple[pb.Startup, int] | None:
    row = conn.execute("SELECT data, version FROM startups WHERE id = ?", (startup_id,)).fetchone()
    if row is None:
        return None
    return pb.Startup.FromString(row["data"]), int(row["version"])


def put_startup(
    conn: sqlite3.Connection, startup_id: str, carrier: str, startup: pb.Startup, version: int
) -> None:
    conn.execute(
        "INSERT INTO startups (id, carrier, needs, version, data) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET needs = excluded.needs, version = excluded.version, "
        "data = excluded.data",
        (startup_id, carrier, _tags(startup.legal_needs), version, startup.SerializeToString()),
    )


def list_startups(
    conn: sqlite3.Connection, carrier: str, legal_need: int, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    sql = "SELECT id, data FROM startups WHERE carrier = ? AND id > ?"
    params: list[object] = [carrier, after or ""]
    if legal_need:
        sql += " AND instr(needs, ?) > 0"
        params.append(f",{legal_need},")
    rows = conn.execute(sql + " ORDER BY id LIMIT ?", (*params, limit))
    return [(row["id"], row["data"]) for row in rows]


# What other regions copy of this region's membership (pairing keeps startups' legal needs).
SNAPSHOTS = (
    SnapshotSource(
        "carrier",
        "SELECT id, version, data FROM carriers WHERE region = :region AND id > :after "
        "ORDER BY id LIMIT :limit",
        wrapping(pb.Carrier, ev.CarrierSnapshot, "carrier"),
    ),
    SnapshotSource(
        "startup",  # only this region's startups are kept here
        "SELECT id, version, data FROM startups WHERE id > :after ORDER BY id LIMIT :limit",
        wrapping(pb.Startup, ev.StartupSnapshot, "startup"),
    ),
)
