"""Pairing's tables. Owned entities (lawyers, rounds, assignments, check-ups) keep the resource
as protobuf bytes plus the columns filters and paging need; the directory tables (carriers,
startups, other regions' lawyers) are projections of other services' and regions' events."""

from __future__ import annotations

from alliance.membership.v1 import membership_pb2 as membership
from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb

from yrd_alliance.kernel.members import is_active
from yrd_alliance.kernel.snapshots import SnapshotSource, wrapping
from yrd_alliance.kernel.tables import (
    Migration,
    Table,
    fields,
    parent_of,
    region_of,
    tags_of,
    whole_name,
)

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


LAWYERS = Table(
    "lawyers",
    pb.Lawyer,
    "lawyer",
    {"region": region_of, **fields("state"), "specialties": tags_of("specialties")},
)
# The carrier directory, from membership's events of every region.
DIRECTORY_CARRIERS = Table(
    "directory_carriers",
    membership.Carrier,
    "carrier",
    {
        "region": region_of,
        **fields("display_name"),
        "active": is_active,
    },
    key="name",
    key_of=whole_name,
    data=False,
)
DIRECTORY_STARTUPS = Table(
    "directory_startups",
    membership.Startup,
    "startup",
    {"carrier": parent_of("startups"), "needs": tags_of("legal_needs")},
    key="name",
    key_of=whole_name,
    data=False,
)
ROUNDS = Table("rounds", pb.Round, "round")
ASSIGNMENTS = Table(
    "assignments",
    pb.Assignment,
    "assignment",
    {"round": parent_of("assignments"), **fields("lawyer", "carrier", "state")},
)
CHECKUPS = Table(
    "checkups",
    pb.Checkup,
    "checkup",
    fields("lawyer", "carrier", "startup", "state"),
)


# What other regions copy of this region's pairing.
SNAPSHOTS = (
    SnapshotSource(
        "lawyer",
        "SELECT id, version, data FROM lawyers WHERE region = :region AND id > :after "
        "ORDER BY id LIMIT :limit",
        wrapping(pb.Lawyer, ev.LawyerSnapshot, "lawyer"),
    ),
)
