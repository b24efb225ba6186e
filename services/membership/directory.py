"""The alliance-wide carrier directory: other regions' carriers, kept read-only in this region's
database from their events, so `ListCarriers(regions/-)` and `GetCarrier` of any region are
answered locally. Each event carries the whole carrier; the stored version makes an older or
repeated event a no-op. Startups stay in their home region."""

from __future__ import annotations

from alliance.membership.v1 import membership_pb2 as pb
from kernel.event_types import type_of
from kernel.events import Event
from kernel.members import CARRIER_EVENTS
from kernel.ports import UnitOfWork
from kernel.projection import Projection

from membership.store import CARRIERS


def apply_carrier_event(uow: UnitOfWork, event: Event) -> None:
    carrier: pb.Carrier = getattr(event.decode(), "carrier")  # noqa: B009  (every carrier event has it)
    uow.rows(CARRIERS).apply_if_newer(carrier, event.version)


PROJECTION = Projection(
    subjects=["alliance.{region}.membership.carrier.>"],
    handlers={type_of(e): apply_carrier_event for e in CARRIER_EVENTS},
)
