"""The alliance-wide carrier directory: other regions' carriers, kept read-only in this region's
database from their events, so `ListCarriers(regions/-)` and `GetCarrier` of any region are
answered locally. Each event carries the whole carrier; the stored version makes an older or
repeated event a no-op. Startups stay in their home region."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from kernel.event_types import type_of
from kernel.events import Event
from kernel.projection import Projection
from kernel.unit_of_work import UnitOfWork

from membership import store

CARRIER_EVENTS = (
    ev.CarrierRegistered,
    ev.CarrierUpdated,
    ev.CarrierSuspended,
    ev.CarrierLeft,
    ev.CarrierSnapshot,
)


def apply_carrier_event(uow: UnitOfWork, event: Event) -> None:
    tx = uow.tx
    carrier: pb.Carrier = getattr(event.decode(), "carrier")  # noqa: B009  (every carrier event has it)
    _, region, _, carrier_id = carrier.name.split("/")
    known = store.get_carrier(tx, carrier_id)
    if known is not None and known[1] >= event.version:
        return
    store.put_carrier(tx, carrier_id, region, carrier, event.version)


PROJECTION = Projection(
    subjects=["alliance.{region}.membership.carrier.>"],
    handlers={type_of(e): apply_carrier_event for e in CARRIER_EVENTS},
)
