"""Snapshots of a region's own entities, for regions that catch up after an absence longer than
the streams keep events (or that join the alliance late).

Each service declares, per kind of entity it owns, how to page through this region's rows and
wrap one as a snapshot event (e.g. `CarrierSnapshot`, subject `alliance.<r>.membership.carrier.
snapshot`), carrying the entity as it is now and its current version. The events flow like any
other, so every region's consumers apply them through their usual, version-checked handlers: a
copy that is as new already changes nothing, a missing or older one is rebuilt, and a later
live event still wins over an earlier snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message

if TYPE_CHECKING:
    from yrd_alliance.kernel.runtime import Runtime

PAGE = 500  # entities per transaction: short enough never to hold up the service's writes


@dataclass(frozen=True)
class SnapshotSource:
    entity: str  # the subject's entity segment, e.g. "carrier"
    # SELECT key, version, data … WHERE <this region's rows> AND key > :after ORDER BY key
    # LIMIT :limit — parameters :region, :prefix ("regions/<region>/"), :after, :limit
    query: str
    # The stored bytes → the snapshot payload and the resource name it is about.
    wrap: Callable[[bytes], tuple[Message, str]]


def wrapping(
    entity: type[Message],
    event: type[Message],
    field: str,
    key: str = "name",
    view: Callable[[Any], Message] = lambda found: found,
) -> Callable[[bytes], tuple[Message, str]]:
    """For SnapshotSource.wrap: the stored `entity` bytes as `event(field=view(entity))` (the
    entity as its events carry it), named by the entity's `key` field."""

    def wrap(data: bytes) -> tuple[Message, str]:
        found = entity.FromString(data)
        return event(**{field: view(found)}), str(getattr(found, key))

    return wrap


async def publish_snapshot(runtime: Runtime, sources: tuple[SnapshotSource, ...]) -> dict[str, int]:
    """Emits one snapshot event per entity of this region; returns how many, per kind."""
    region = runtime.settings.region
    counts: dict[str, int] = {}
    for source in sources:
        after, count = "", 0
        while True:
            rows = runtime.db.reader.execute(
                source.query,
                {"region": region, "prefix": f"regions/{region}/", "after": after, "limit": PAGE},
            ).fetchall()
            if not rows:
                break
            async with runtime.unit_of_work() as uow:
                for _key, version, data in rows:
                    payload, name = source.wrap(bytes(data))
                    uow.emit(runtime.event(source.entity, "snapshot", name, version, payload))
            after, count = str(rows[-1][0]), count + len(rows)
        counts[source.entity] = count
    return counts
