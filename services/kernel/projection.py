"""Federated projections: a service declares which of the other regions' events it keeps a
read-only copy of, and how each applies; the kernel feeds them from the region's ALL_<R> through
an idempotent consumer, so a region answers reads about the whole alliance from its own
database, also while cut off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kernel.consumer import EventConsumer, Handler
from kernel.db import Database
from kernel.nats_link import NatsLink
from kernel.streams import all_stream_name


@dataclass(frozen=True)
class Projection:
    # subject templates, e.g. "alliance.{region}.membership.carrier.>"
    subjects: Sequence[str]
    # CloudEvents type → applies one event inside the consumer's transaction
    handlers: Mapping[str, Handler]

    def consumer(
        self, db: Database, link: NatsLink, *, service: str, region: str, federation: list[str]
    ) -> EventConsumer | None:
        others = [r for r in federation if r != region]
        if not others:
            return None
        return EventConsumer(
            db,
            link,
            stream=all_stream_name(region),
            durable=f"{service}-projection",
            handlers=self.handlers,
            filter_subjects=[s.format(region=other) for other in others for s in self.subjects],
        )
