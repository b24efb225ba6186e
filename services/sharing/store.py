"""Sharing's tables. Resources (this region's and, from their events, every other region's) keep
the protobuf bytes plus what search needs, with a trigram full-text index so Chinese words
match; requests are this region's; bookings are the owner regions' decisions — written here for
this region's resources, copied from events for the others'."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb
from kernel.db import Migration
from kernel.snapshots import SnapshotSource, wrapping

from sharing.ledger import OCCUPYING, Booking, State

MIGRATIONS = [
    Migration(
        "sharing",
        1,
        """
        CREATE TABLE carriers (
            name TEXT PRIMARY KEY,
            active INTEGER NOT NULL,
            version INTEGER NOT NULL
        );
        CREATE TABLE resources (
            id TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            owner TEXT NOT NULL,
            category INTEGER NOT NULL,
            visibility INTEGER NOT NULL,
            state INTEGER NOT NULL,
            chains TEXT NOT NULL,
            capacity INTEGER NOT NULL,
            updated REAL NOT NULL,
            text TEXT NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX resources_by_owner ON resources (owner, id);
        CREATE INDEX resources_published ON resources (state, updated, id);
        CREATE VIRTUAL TABLE resources_fts USING fts5 (text, tokenize = 'trigram');
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            requester TEXT NOT NULL,
            state INTEGER NOT NULL,
            version INTEGER NOT NULL,
            owner_version INTEGER NOT NULL DEFAULT 0,
            data BLOB NOT NULL
        );
        CREATE INDEX requests_by_requester ON requests (requester, id);
        CREATE TABLE bookings (
            request TEXT PRIMARY KEY,
            resource TEXT NOT NULL,
            owner TEXT NOT NULL,
            requester TEXT NOT NULL,
            units INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            state TEXT NOT NULL,
            seq INTEGER NOT NULL,
            reason TEXT NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX bookings_by_resource ON bookings (resource, seq);
        CREATE INDEX bookings_by_owner ON bookings (owner, request)
        """,
    ),
    # Search filters and facet counts read this index alone instead of every row with its data.
    Migration(
        "sharing",
        2,
        """
        CREATE INDEX resources_facets ON resources
            (state, visibility, region, category, chains, owner, capacity, updated, id)
        """,
    ),
]


def _tags(values: Iterable[int]) -> str:
    return "," + ",".join(str(v) for v in values) + ","


# -- the carrier directory --------------------------------------------------------------------


def carrier_active(conn: sqlite3.Connection, name: str) -> bool | None:
    row = conn.execute("SELECT active FROM carriers WHERE name = ?", (name,)).fetchone()
    return None if row is None else bool(row["active"])


def put_carrier(conn: sqlite3.Connection, name: str, active: bool, version: int) -> None:
    conn.execute(
        "INSERT INTO carriers (name, active, version) VALUES (?, ?, ?) ON CONFLICT (name) DO "
        "UPDATE SET active = excluded.active, version = excluded.version "
        "WHERE excluded.version > carriers.version",
        (name, int(active), version),
    )


# -- resources --------------------------------------------------------------------------------


def get_resource(conn: sqlite3.Connection, resource_id: str) -> tuple[pb.Resource, int] | None:
    row = conn.execute(
        "SELECT data, version FROM resources WHERE id = ?", (resource_id,)
    ).fetchone()
    return None if row is None else (pb.Resource.FromString(row["data"]), int(row["version"]))


def put_resource(
    conn: sqlite3.Connection, resource_id: str, resource: pb.Resource, version: int
) -> None:
    text = f"{resource.title}\n{resource.description}"
    conn.execute(
        "INSERT INTO resources (id, region, owner, category, visibility, state, chains, capacity, "
        "updated, text, version, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET category = excluded.category, visibility = "
        "excluded.visibility, state = excluded.state, chains = excluded.chains, capacity = "
        "excluded.capacity, updated = excluded.updated, text = excluded.text, version = "
        "excluded.version, data = excluded.data",
        (
            resource_id,
            resource.name.split("/")[1],
            resource.owner,
            resource.category,
            resource.visibility,
            resource.state,
            _tags(resource.industrial_chains),
            resource.capacity,
            resource.update_time.seconds + resource.update_time.nanos / 1e9,
            text,
            version,
            resource.SerializeToString(),
        ),
    )
    rowid = conn.execute("SELECT rowid FROM resources WHERE id = ?", (resource_id,)).fetchone()[0]
    conn.execute("DELETE FROM resources_fts WHERE rowid = ?", (rowid,))
    conn.execute("INSERT INTO resources_fts (rowid, text) VALUES (?, ?)", (rowid, text))


@dataclass(frozen=True)
class ResourceFilter:
    region: str
    owner: str = ""
    state: int = 0

    def key(self) -> str:
        return f"resources|{self.region}|{self.owner}|{self.state}"


def list_resources(
    conn: sqlite3.Connection, query: ResourceFilter, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses, params = ["id > ?", "region = ?"], [after or "", query.region]
    if query.owner:
        clauses.append("owner = ?")
        params.append(query.owner)
    if query.state:
        clauses.append("state = ?")
        params.append(str(query.state))
    rows = conn.execute(
        f"SELECT id, data FROM resources WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [(row["id"], row["data"]) for row in rows]


# -- requests (the requester's side) ----------------------------------------------------------


def get_request(conn: sqlite3.Connection, request_id: str) -> tuple[pb.Request, int, int] | None:
    row = conn.execute(
        "SELECT data, version, owner_version FROM requests WHERE id = ?", (request_id,)
    ).fetchone()
    if row is None:
        return None
    return pb.Request.FromString(row["data"]), int(row["version"]), int(row["owner_version"])


def put_request(
    conn: sqlite3.Connection,
    request_id: str,
    request: pb.Request,
    version: int,
    owner_version: int = 0,
) -> None:
    conn.execute(
        "INSERT INTO requests (id, requester, state, version, owner_version, data) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
        "version = excluded.version, owner_version = excluded.owner_version, data = excluded.data",
        (
            request_id,
            request.requester,
            request.state,
            version,
            owner_version,
            request.SerializeToString(),
        ),
    )


def list_requests(
    conn: sqlite3.Connection, requester: str, state: int, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses, params = ["id > ?"], [after or ""]
    if requester:
        clauses.append("requester = ?")
        params.append(requester)
    if state:
        clauses.append("state = ?")
        params.append(str(state))
    rows = conn.execute(
        f"SELECT id, data FROM requests WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [(row["id"], row["data"]) for row in rows]


# -- bookings (the owner's side) --------------------------------------------------------------


def bookings_of(conn: sqlite3.Connection, resource: str) -> list[Booking]:
    rows = conn.execute(
        "SELECT request, units, start, end, state, seq, reason FROM bookings WHERE resource = ?",
        (resource,),
    )
    return [
        Booking(
            row["request"],
            row["units"],
            row["start"],
            row["end"],
            State(row["state"]),
            row["seq"],
            row["reason"],
        )
        for row in rows
    ]


def get_booking(conn: sqlite3.Connection, request: str) -> tuple[pb.Booking, int] | None:
    row = conn.execute(
        "SELECT data, version FROM bookings WHERE request = ?", (request,)
    ).fetchone()
    return None if row is None else (pb.Booking.FromString(row["data"]), int(row["version"]))


def put_booking(
    conn: sqlite3.Connection, booking: Booking, record: pb.Booking, owner: str, version: int
) -> None:
    conn.execute(
        "INSERT INTO bookings (request, resource, owner, requester, units, start, end, state, "
        "seq, reason, version, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (request) DO UPDATE SET state = excluded.state, reason = excluded.reason, "
        "version = excluded.version, data = excluded.data",
        (
            booking.request,
            record.resource,
            owner,
            record.requester,
            booking.units,
            booking.start,
            booking.end,
            booking.state.value,
            booking.seq,
            booking.reason,
            version,
            record.SerializeToString(),
        ),
    )


def resources_with_due_bookings(conn: sqlite3.Connection, owner_region: str, now: int) -> list[str]:
    """This region's resources with a held or waitlisted request whose window has begun."""
    rows = conn.execute(
        "SELECT DISTINCT resource FROM bookings WHERE state IN (?, ?) AND start <= ? "
        "AND resource LIKE ?",
        (State.HELD.value, State.WAITLISTED.value, now, f"regions/{owner_region}/resources/%"),
    )
    return [row["resource"] for row in rows]


def list_bookings(
    conn: sqlite3.Connection, owner: str, resource: str, state: str, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses, params = ["owner = ?", "request > ?"], [owner, after or ""]
    if resource:
        clauses.append("resource = ?")
        params.append(resource)
    if state:
        clauses.append("state = ?")
        params.append(state)
    rows = conn.execute(
        f"SELECT request, data FROM bookings WHERE {' AND '.join(clauses)} "
        "ORDER BY request LIMIT ?",
        (*params, limit),
    )
    return [(row["request"], row["data"]) for row in rows]


def short_of_units(conn: sqlite3.Connection, start: int, end: int, units: int) -> list[str]:
    """Resources (names) whose bookings leave fewer than `units` free somewhere in the window."""
    from sharing.ledger import Ledger

    occupying = tuple(s.value for s in OCCUPYING)
    rows = conn.execute(
        "SELECT DISTINCT b.resource, r.capacity FROM bookings b JOIN resources r "
        "ON r.id = substr(b.resource, length(b.resource) - 25) WHERE r.capacity > 0 "
        f"AND b.state IN ({','.join('?' * len(occupying))}) AND b.start < ? AND b.end > ?",
        (*occupying, end, start),
    ).fetchall()
    short = []
    for row in rows:
        ledger = Ledger(row["capacity"], bookings_of(conn, row["resource"]))
        if not ledger.fits(units, start, end):
            short.append(row["resource"])
    return short


def sharing_counts(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT owner, requester, state, count(*) AS n FROM bookings "
        "GROUP BY owner, requester, state"
    ).fetchall()


def shared_counts(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT owner, count(*) AS n FROM resources WHERE state = ? GROUP BY owner",
        (pb.RESOURCE_STATE_PUBLISHED,),
    ).fetchall()


# What other regions copy of this region's sharing: its resources, and the bookings (decisions
# on capacity) of its resources, which also move the requests of other regions.
SNAPSHOTS = (
    SnapshotSource(
        "resource",
        "SELECT id, version, data FROM resources WHERE region = :region AND id > :after "
        "ORDER BY id LIMIT :limit",
        wrapping(pb.Resource, ev.ResourceSnapshot, "resource"),
    ),
    SnapshotSource(
        "booking",
        "SELECT request, version, data FROM bookings WHERE owner LIKE :prefix || '%' "
        "AND request > :after ORDER BY request LIMIT :limit",
        wrapping(pb.Booking, ev.BookingSnapshot, "booking", key="request"),
    ),
)
