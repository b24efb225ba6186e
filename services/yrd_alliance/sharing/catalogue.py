"""Federated search over every region's published resources, and the counts behind the sharing
stats, from this region's database: the adapter of the `Catalogue` port.

Search asks the resources' index for a page, the totals and the facets: the service writes the
index (sharing.search_index) and a process of its own reads it (sharing.search_process), once
the index has caught up with the database. The bookings that decide "N units free in a window"
come from the database itself.
"""

from __future__ import annotations

import asyncio

from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel.db import Connection
from yrd_alliance.sharing.ledger import OCCUPYING, Ledger
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.search_index import SearchIndex
from yrd_alliance.sharing.search_process import SearchProcess
from yrd_alliance.sharing.search_reader import cursor
from yrd_alliance.sharing.store import booking_of

_CATEGORIES = {value.number: value.name for value in pb.Category.DESCRIPTOR.values}


class IndexedCatalogue:
    def __init__(self, conn: Connection, index: SearchIndex, reader: SearchProcess) -> None:
        self._conn = conn
        self._index = index
        self._reader = reader
        self._catching_up = asyncio.Lock()

    async def current(self) -> None:
        """Returns when the index holds every change the database has committed."""
        async with self._catching_up:
            if self._index.behind():
                await asyncio.to_thread(self._index.catch_up)

    async def close(self) -> None:
        """Stops the search process and lets go of the index."""
        await self._reader.close()
        self._index.close()

    async def search(
        self, q: Query, after: str | None, limit: int
    ) -> tuple[list[tuple[str, bytes]], int, list[pb.Facet], list[pb.Facet]]:
        """(page rows as (token key, data), total, category facets, region facets), from a
        snapshot of the index no older than the last `current()`."""
        where = cursor(q, after)
        excluded: list[str] = []
        if q.window and q.free_units:
            short = self._short_of_units(q.window[0], q.window[1], q.free_units)
            excluded = [name.rsplit("/", 1)[-1] for name in short]
        page, categories, regions = await self._reader.search(
            q, excluded, where, limit, self._index.applied
        )
        return (
            page,
            sum(categories.values()),
            _facets({_CATEGORIES[c]: n for c, n in categories.items()}),
            _facets(regions),
        )

    def _short_of_units(self, start: int, end: int, units: int) -> list[str]:
        """Resources (names) whose bookings leave fewer than `units` free somewhere in the
        window."""
        occupying = tuple(s.value for s in OCCUPYING)
        rows = self._conn.execute(
            # bookings first: few overlap a window, and most resources have no bookings at all
            "SELECT DISTINCT b.resource, r.capacity FROM bookings b JOIN resources r "
            "ON r.id = substr(b.resource, length(b.resource) - 25) WHERE r.capacity > 0 "
            f'AND b.state IN ({",".join("?" * len(occupying))}) AND b.start < ? AND b."end" > ?',
            (*occupying, end, start),
        ).fetchall()
        short = []
        for row in rows:
            bookings = self._conn.execute(
                "SELECT * FROM bookings WHERE resource = ?", (row["resource"],)
            ).fetchall()
            ledger = Ledger(row["capacity"], [booking_of(b) for b in bookings])
            if not ledger.fits(units, start, end):
                short.append(row["resource"])
        return short

    def published_by_owner(self) -> list[tuple[str, int]]:
        """(owner, published resources) for every owner that shares any."""
        rows = self._conn.execute(
            "SELECT owner, count(*) FROM resources WHERE state = ? GROUP BY owner",
            (pb.RESOURCE_STATE_PUBLISHED,),
        )
        return [(row[0], int(row[1])) for row in rows]

    def bookings_by_pair(self) -> list[tuple[str, str, str, int]]:
        """(owner, requester, ledger state, bookings) over every booking this region knows."""
        rows = self._conn.execute(
            "SELECT owner, requester, state, count(*) FROM bookings "
            "GROUP BY owner, requester, state"
        )
        return [(row[0], row[1], row[2], int(row[3])) for row in rows]


def _facets(counts: dict[str, int]) -> list[pb.Facet]:
    return [
        pb.Facet(key=k, count=n) for k, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]
