"""Pairing's tables. Owned entities (lawyers, rounds, assignments, check-ups) keep the resource
as protobuf bytes plus the columns filters and paging need; the directory tables (carriers,
startups, other regions' lawyers) are projections of other services' and regions' events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb
from kernel.db import Migration
from kernel.snapshots import SnapshotSource, wrapping

MIGRATIONS = [
    Migration(
        "pairing",
        1,
        """
        CREATE TABLE lawyers (
            id TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            state INTEGER NOT NULL,
            specialties TEXT NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE directory_carriers (
            name TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            display_name TEXT NOT NULL,
            active INTEGER NOT NULL,
            version INTEGER NOT NULL
        );
        CREATE TABLE directory_startups (
            name TEXT PRIMARY KEY,
            carrier TEXT NOT NULL,
            needs TEXT NOT NULL,
            version INTEGER NOT NULL
        );
        CREATE INDEX directory_startups_by_carrier ON directory_startups (carrier);
        CREATE TABLE rounds (
            id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE TABLE assignments (
            id TEXT PRIMARY KEY,
            round TEXT NOT NULL,
            lawyer TEXT NOT NULL,
            carrier TEXT NOT NULL,
            state INTEGER NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX assignments_by_round ON assignments (round, id);
        CREATE INDEX assignments_by_pair ON assignments (lawyer, carrier, state);
        CREATE TABLE checkups (
            id TEXT PRIMARY KEY,
            lawyer TEXT NOT NULL,
            carrier TEXT NOT NULL,
            startup TEXT NOT NULL,
            state INTEGER NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        )
        """,
    )
]


def _tags(values: Iterable[int]) -> str:
    return "," + ",".join(str(v) for v in values) + ","


def _ids(text: str) -> frozenset[int]:
    return frozenset(int(x) for x in text.strip(",").split(",") if x)


# -- lawyers (this region's, and other regions' from their events) ------------------------------


def get_lawyer(conn: sqlite3.Connection, lawyer_id: str) -> tuple[pb.Lawyer, int] | None:
    row = conn.execute("SELECT data, version FROM lawyers WHERE id = ?", (lawyer_id,)).fetchone()
    return None if row is None else (pb.Lawyer.FromString(row["data"]), int(row["version"]))


def put_lawyer(conn: sqlite3.Connection, lawyer_id: str, lawyer: pb.Lawyer, version: int) -> None:
    conn.execute(
        "INSERT INTO lawyers (id, region, state, specialties, version, data) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
        "specialties = excluded.specialties, version = excluded.version, data = excluded.data",
        (
            lawyer_id,
            lawyer.name.split("/")[1],
            lawyer.state,
            _tags(lawyer.specialties),
            version,
            lawyer.SerializeToString(),
        ),
    )


@dataclass(frozen=True)
class LawyerFilter:
    region: str  # "-" for every region
    specialty: int = 0
    state: int = 0

    def key(self) -> str:
        return f"lawyers|{self.region}|{self.specialty}|{self.state}"


def list_lawyers(
    conn: sqlite3.Connection, query: LawyerFilter, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses, params = ["id > ?"], [after or ""]
    if query.region != "-":
        clauses.append("region = ?")
        params.append(query.region)
    if query.state:
        clauses.append("state = ?")
        params.append(str(query.state))
    if query.specialty:
        clauses.append("instr(specialties, ?) > 0")
        params.append(f",{query.specialty},")
    rows = conn.execute(
        f"SELECT id, data FROM lawyers WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [(row["id"], row["data"]) for row in rows]


def active_lawyers(conn: sqlite3.Connection) -> list[pb.Lawyer]:
    rows = conn.execute(
        "SELECT data FROM lawyers WHERE state = ? ORDER BY id", (pb.LAWYER_STATE_ACTIVE,)
    )
    return [pb.Lawyer.FromString(row["data"]) for row in rows]


# -- the carrier directory, from membership's events of every region ---------------------------


@dataclass(frozen=True)
class KnownCarrier:
    name: str
    region: str
    display_name: str
    active: bool


def carrier_version(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT version FROM directory_carriers WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row["version"])


def put_carrier(conn: sqlite3.Connection, carrier: KnownCarrier, version: int) -> None:
    conn.execute(
        "INSERT INTO directory_carriers (name, region, display_name, active, version) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET display_name = "
        "excluded.display_name, active = excluded.active, version = excluded.version",
        (carrier.name, carrier.region, carrier.display_name, int(carrier.active), version),
    )


def get_carriers(conn: sqlite3.Connection, names: Sequence[str]) -> dict[str, KnownCarrier]:
    found = {}
    for name in names:
        row = conn.execute("SELECT * FROM directory_carriers WHERE name = ?", (name,)).fetchone()
        if row is not None:
            found[name] = KnownCarrier(
                row["name"], row["region"], row["display_name"], bool(row["active"])
            )
    return found


def startup_version(conn: sqlite3.Connection, name: str) -> int | None:
    row = conn.execute("SELECT version FROM directory_startups WHERE name = ?", (name,)).fetchone()
    return None if row is None else int(row["version"])


def put_startup(
    conn: sqlite3.Connection, name: str, carrier: str, needs: Iterable[int], version: int
) -> None:
    conn.execute(
        "INSERT INTO directory_startups (name, carrier, needs, version) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET needs = excluded.needs, version = excluded.version",
        (name, carrier, _tags(needs), version),
    )


def directory_size(conn: sqlite3.Connection) -> tuple[int, int]:
    """(carriers, startups) this region's directory holds."""
    carriers = conn.execute("SELECT count(*) FROM directory_carriers").fetchone()[0]
    startups = conn.execute("SELECT count(*) FROM directory_startups").fetchone()[0]
    return int(carriers), int(startups)


def startup_needs(conn: sqlite3.Connection, carrier: str) -> tuple[frozenset[int], ...]:
    rows = conn.execute(
        "SELECT needs FROM directory_startups WHERE carrier = ? ORDER BY name", (carrier,)
    )
    return tuple(_ids(row["needs"]) for row in rows)


def startup_carrier(conn: sqlite3.Connection, startup: str) -> str | None:
    row = conn.execute(
        "SELECT carrier FROM directory_startups WHERE name = ?", (startup,)
    ).fetchone()
    return None if row is None else str(row["carrier"])


# -- rounds and assignments -------------------------------------------------------------------


def get_round(conn: sqlite3.Connection, round_id: str) -> tuple[pb.Round, int] | None:
    row = conn.execute("SELECT data, version FROM rounds WHERE id = ?", (round_id,)).fetchone()
    return None if row is None else (pb.Round.FromString(row["data"]), int(row["version"]))


def put_round(conn: sqlite3.Connection, round_id: str, round_: pb.Round, version: int) -> None:
    conn.execute(
        "INSERT INTO rounds (id, version, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "version = excluded.version, data = excluded.data",
        (round_id, version, round_.SerializeToString()),
    )


def list_rounds(conn: sqlite3.Connection, after: str | None, limit: int) -> list[tuple[str, bytes]]:
    rows = conn.execute(
        "SELECT id, data FROM rounds WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
    )
    return [(row["id"], row["data"]) for row in rows]


def put_assignment(
    conn: sqlite3.Connection, assignment_id: str, assignment: pb.Assignment, version: int
) -> None:
    conn.execute(
        "INSERT INTO assignments (id, round, lawyer, carrier, state, version, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
        "version = excluded.version, data = excluded.data",
        (
            assignment_id,
            assignment.name.rsplit("/assignments/", 1)[0],
            assignment.lawyer,
            assignment.carrier,
            assignment.state,
            version,
            assignment.SerializeToString(),
        ),
    )


def active_assignments(
    conn: sqlite3.Connection, round_name: str
) -> list[tuple[pb.Assignment, int]]:
    rows = conn.execute(
        "SELECT data, version FROM assignments WHERE round = ? AND state = ? ORDER BY id",
        (round_name, pb.ASSIGNMENT_STATE_ACTIVE),
    )
    return [(pb.Assignment.FromString(row["data"]), int(row["version"])) for row in rows]


def active_assignment(conn: sqlite3.Connection, lawyer: str, carrier: str) -> pb.Assignment | None:
    row = conn.execute(
        "SELECT data FROM assignments WHERE lawyer = ? AND carrier = ? AND state = ? "
        "ORDER BY id DESC LIMIT 1",
        (lawyer, carrier, pb.ASSIGNMENT_STATE_ACTIVE),
    ).fetchone()
    return None if row is None else pb.Assignment.FromString(row["data"])


@dataclass(frozen=True)
class AssignmentFilter:
    round: str  # a round name, or "regions/{r}/rounds/-"
    carrier: str = ""
    lawyer: str = ""
    state: int = 0

    def key(self) -> str:
        return f"assignments|{self.round}|{self.carrier}|{self.lawyer}|{self.state}"


def list_assignments(
    conn: sqlite3.Connection, query: AssignmentFilter, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses, params = ["id > ?"], [after or ""]
    if not query.round.endswith("/-"):
        clauses.append("round = ?")
        params.append(query.round)
    for column, value in (("carrier", query.carrier), ("lawyer", query.lawyer)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.state:
        clauses.append("state = ?")
        params.append(str(query.state))
    rows = conn.execute(
        f"SELECT id, data FROM assignments WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [(row["id"], row["data"]) for row in rows]


# -- check-ups --------------------------------------------------------------------------------


def get_checkup(conn: sqlite3.Connection, checkup_id: str) -> tuple[pb.Checkup, int] | None:
    row = conn.execute("SELECT data, version FROM checkups WHERE id = ?", (checkup_id,)).fetchone()
    return None if row is None else (pb.Checkup.FromString(row["data"]), int(row["version"]))


def put_checkup(
    conn: sqlite3.Connection, checkup_id: str, checkup: pb.Checkup, version: int
) -> None:
    conn.execute(
        "INSERT INTO checkups (id, lawyer, carrier, startup, state, version, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
        "version = excluded.version, data = excluded.data",
        (
            checkup_id,
            checkup.lawyer,
            checkup.carrier,
            checkup.startup,
            checkup.state,
            version,
            checkup.SerializeToString(),
        ),
    )


@dataclass(frozen=True)
class CheckupFilter:
    carrier: str = ""
    lawyer: str = ""
    state: int = 0

    def key(self) -> str:
        return f"checkups|{self.carrier}|{self.lawyer}|{self.state}"


def list_checkups(
    conn: sqlite3.Connection, query: CheckupFilter, after: str | None, limit: int
) -> list[tuple[str, bytes]]:
    clauses, params = ["id > ?"], [after or ""]
    for column, value in (("carrier", query.carrier), ("lawyer", query.lawyer)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.state:
        clauses.append("state = ?")
        params.append(str(query.state))
    rows = conn.execute(
        f"SELECT id, data FROM checkups WHERE {' AND '.join(clauses)} ORDER BY id LIMIT ?",
        (*params, limit),
    )
    return [(row["id"], row["data"]) for row in rows]


def completed_checkups(conn: sqlite3.Connection) -> list[pb.Checkup]:
    rows = conn.execute(
        "SELECT data FROM checkups WHERE state = ? ORDER BY id", (pb.CHECKUP_STATE_COMPLETED,)
    )
    return [pb.Checkup.FromString(row["data"]) for row in rows]


def count_checkups(conn: sqlite3.Connection) -> dict[int, int]:
    rows = conn.execute("SELECT state, count(*) AS n FROM checkups GROUP BY state")
    return {int(row["state"]): int(row["n"]) for row in rows}


# What other regions copy of this region's pairing.
SNAPSHOTS = (
    SnapshotSource(
        "lawyer",
        "SELECT id, version, data FROM lawyers WHERE region = :region AND id > :after "
        "ORDER BY id LIMIT :limit",
        wrapping(pb.Lawyer, ev.LawyerSnapshot, "lawyer"),
    ),
)
