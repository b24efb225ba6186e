"""Sharing's tables. Resources (this region's and, from their events, every other region's) keep
the protobuf bytes plus what search needs (sharing.search_index keeps the full-text index, from
the changes numbered here); requests are this region's; bookings are the owner regions'
decisions — written here for this region's resources, copied from events for the others'."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alliance.membership.v1 import membership_pb2 as membership
from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from yrd_alliance.kernel.members import is_active
from yrd_alliance.kernel.snapshots import SnapshotSource, wrapping
from yrd_alliance.kernel.tables import Migration, Table, fields, region_of, tags_of, whole_name
from yrd_alliance.sharing.ledger import Booking, State
from yrd_alliance.sharing.rules import resource_in_events

_CHANGES = (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old"))


def _change_numbered(when: str, row: str) -> str:
    """A trigger giving the resource row's entry in search_changes the next number."""
    return f"""
        CREATE TRIGGER search_{when.lower()} AFTER {when} ON resources BEGIN
            UPDATE search_changes SET seq = (SELECT max(seq) + 1 FROM search_changes)
            WHERE id = {row}.id;
            INSERT INTO search_changes (id, seq)
            SELECT {row}.id, (SELECT coalesce(max(seq), 0) + 1 FROM search_changes)
            WHERE NOT EXISTS (SELECT 1 FROM search_changes WHERE id = {row}.id);
        END"""


# PostgreSQL's version of those triggers. Replicas commit concurrently, so the numbering takes a
# lock held to the commit: numbers then follow commit order, and an index that applied every
# change up to N never sees a later commit with a number at or below N.
_CHANGE_NUMBERED_PG = """
    CREATE FUNCTION search_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        changed TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('search_changes'));
        INSERT INTO search_changes (id, seq)
        VALUES (changed, (SELECT coalesce(max(seq), 0) + 1 FROM search_changes))
        ON CONFLICT (id) DO UPDATE SET seq = excluded.seq;
        RETURN NULL;
    END $$;
    CREATE TRIGGER search_change AFTER INSERT OR UPDATE OR DELETE ON resources
        FOR EACH ROW EXECUTE FUNCTION search_change()
"""

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
            "end" INTEGER NOT NULL,
            state TEXT NOT NULL,
            seq INTEGER NOT NULL,
            reason TEXT NOT NULL,
            version INTEGER NOT NULL,
            data BLOB NOT NULL
        );
        CREATE INDEX bookings_by_resource ON bookings (resource, seq);
        CREATE INDEX bookings_by_owner ON bookings (owner, request)
        """,
        sqlite="CREATE VIRTUAL TABLE resources_fts USING fts5 (text, tokenize = 'trigram')",
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
    # Search reads the full-text index; the database keeps it in step with the rows.
    Migration(
        "sharing",
        3,
        "",
        sqlite="""
        CREATE TRIGGER resources_fts_insert AFTER INSERT ON resources BEGIN
            INSERT INTO resources_fts (rowid, text) VALUES (new.rowid, new.text);
        END;
        CREATE TRIGGER resources_fts_update AFTER UPDATE OF text ON resources BEGIN
            DELETE FROM resources_fts WHERE rowid = old.rowid;
            INSERT INTO resources_fts (rowid, text) VALUES (new.rowid, new.text);
        END
        """,
    ),
    # Search moved to its own index (sharing.search_index), which applies the rows changed
    # after the last change it has: each resource row's latest change, numbered in commit order
    # (UPDATE then INSERT: an upsert's own conflict clause would override INSERT OR REPLACE).
    Migration(
        "sharing",
        4,
        """
        DROP INDEX resources_facets;
        CREATE INDEX resources_shared ON resources (state, owner);
        CREATE TABLE search_changes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
        CREATE INDEX search_changes_by_seq ON search_changes (seq)
        """,
        sqlite="""
        DROP TRIGGER resources_fts_insert;
        DROP TRIGGER resources_fts_update;
        DROP TABLE resources_fts;
        INSERT INTO search_changes (id, seq) SELECT id, rowid FROM resources;
        """
        + ";".join(_change_numbered(when, row) for when, row in _CHANGES),
        postgres=_CHANGE_NUMBERED_PG,
    ),
]


# The owner's ledger states as the API shows them.
BOOKING_STATES = {
    State.HELD: pb.BOOKING_STATE_HELD,
    State.WAITLISTED: pb.BOOKING_STATE_WAITLISTED,
    State.APPROVED: pb.BOOKING_STATE_APPROVED,
    State.DECLINED: pb.BOOKING_STATE_DECLINED,
    State.EXPIRED: pb.BOOKING_STATE_EXPIRED,
    State.RELEASED: pb.BOOKING_STATE_RELEASED,
    State.FULFILLED: pb.BOOKING_STATE_FULFILLED,
}
LEDGER_STATES = {v: k for k, v in BOOKING_STATES.items()}


def _seconds(ts: Timestamp) -> float:
    return ts.seconds + ts.nanos / 1e9


# Every region's carriers, from membership's events: whether each may share and ask.
CARRIERS = Table(
    "carriers",
    membership.Carrier,
    "carrier",
    {"active": is_active},
    key="name",
    key_of=whole_name,
    data=False,
)
# This region's resources and, from their events, every other region's.
RESOURCES = Table(
    "resources",
    pb.Resource,
    "resource",
    {
        "region": region_of,
        **fields("owner", "category", "visibility", "state", "capacity"),
        "chains": tags_of("industrial_chains"),
        "updated": lambda r: _seconds(r.update_time),
        "text": lambda r: f"{r.title}\n{r.description}",
    },
)
# This region's requests; `owner_version` is the version of the owner's last decision applied.
REQUESTS = Table(
    "requests",
    pb.Request,
    "request",
    fields("requester", "state"),
    extras=("owner_version",),
)
# The owner regions' decisions: written here for this region's resources, copied from events for
# the others'. Also set on put: `owner` (the resource's owner) and `seq` (arrival order).
BOOKINGS = Table(
    "bookings",
    pb.Booking,
    "booking",
    {
        **fields("resource", "requester", "units", "reason"),
        "start": lambda b: b.window.start_time.seconds,
        "end": lambda b: b.window.end_time.seconds,
        "state": lambda b: LEDGER_STATES[b.state].value,
    },
    key="request",
    name_of=lambda b: b.request,
    key_of=whole_name,
    extras=("owner", "seq"),
)


def booking_of(row: Mapping[str, Any]) -> Booking:
    """The ledger's view of a BOOKINGS row."""
    return Booking(
        row["request"],
        row["units"],
        row["start"],
        row["end"],
        State(row["state"]),
        row["seq"],
        row["reason"],
    )


# What other regions copy of this region's sharing: its resources, and the bookings (decisions
# on capacity) of its resources, which also move the requests of other regions.
SNAPSHOTS = (
    SnapshotSource(
        "resource",
        "SELECT id, version, data FROM resources WHERE region = :region AND id > :after "
        "ORDER BY id LIMIT :limit",
        wrapping(pb.Resource, ev.ResourceSnapshot, "resource", view=resource_in_events),
    ),
    SnapshotSource(
        "booking",
        "SELECT request, version, data FROM bookings WHERE owner LIKE :prefix || '%' "
        "AND request > :after ORDER BY request LIMIT :limit",
        wrapping(pb.Booking, ev.BookingSnapshot, "booking", key="request"),
    ),
)
