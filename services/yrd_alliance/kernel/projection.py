"""Federated projections: a service declares which of the other regions' events it keeps a
read-only copy of, and how each applies; the kernel feeds them from the region's ALL_<R> through
an idempotent consumer, so a region answers reads about the whole alliance from its own
database, also while cut off."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from yrd_alliance.kernel.event_types import type_of
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.ports import UnitOfWork
from yrd_alliance.kernel.tables import Table

# Applies one event inside the consumer's unit of work.
Handler = Callable[[UnitOfWork, Event], None]


def keeping(events: Sequence[type[Message]], table: Table[Any], field: str) -> dict[str, Handler]:
    """Handlers that keep each event's `field` (the whole entity) in `table`, unless the copy
    there is as new: an older, repeated or replayed event changes nothing."""

    def keep(uow: UnitOfWork, event: Event) -> None:
        uow.rows(table).apply_if_newer(getattr(event.decode(), field), event.version)

    return {type_of(e): keep for e in events}


@dataclass(frozen=True)
class Projection:
    # Subject templates of the events to keep from the *other* regions,
    # e.g. "alliance.{region}.membership.carrier.>" (this service's own entities).
    subjects: Sequence[str]
    # CloudEvents type → applies one event inside the consumer's transaction
    handlers: Mapping[str, Handler]
    # Subject templates to keep from *every* region, this one included: another service's
    # entities, which live in this region's other databases.
    subjects_of_every_region: Sequence[str] = ()

    def filter_subjects(self, region: str, federation: Sequence[str]) -> list[str]:
        """The subjects this region's consumer takes from ALL_<region>; none, no consumer."""
        others = [r for r in federation if r != region]
        filters = [s.format(region=r) for r in others for s in self.subjects]
        return filters + [
            s.format(region=r) for r in federation for s in self.subjects_of_every_region
        ]
