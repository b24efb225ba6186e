"""Membership's tables. Each row keeps the resource as its protobuf bytes plus the columns that
filters and paging need, so reads return exactly what was written."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb

from yrd_alliance.kernel.snapshots import SnapshotSource, wrapping
from yrd_alliance.kernel.tables import Migration, Table, fields, parent_of, region_of, tags_of

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


CARRIERS = Table(
    "carriers",
    pb.Carrier,
    "carrier",
    {
        "region": region_of,
        **fields("level", "kind", "state"),
        "chains": tags_of("industrial_chains"),
    },
)
STARTUPS = Table(
    "startups",
    pb.Startup,
    "startup",
    {"carrier": parent_of("startups"), "needs": tags_of("legal_needs")},
)


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
