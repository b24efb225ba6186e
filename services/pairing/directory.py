"""What pairing knows of the rest of the alliance, from events: every region's carriers and
their startups' legal needs (membership events, this region's included, since membership keeps
them in its own database), and other regions' lawyers. Each event carries the whole entity; the
stored version makes an older or repeated event a no-op."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as membership_events
from alliance.membership.v1 import membership_pb2 as membership
from alliance.pairing.v1 import events_pb2 as ev
from alliance.pairing.v1 import pairing_pb2 as pb
from kernel.event_types import type_of
from kernel.events import Event
from kernel.projection import Projection
from kernel.unit_of_work import UnitOfWork

from pairing import store

CARRIER_EVENTS = (
    membership_events.CarrierRegistered,
    membership_events.CarrierUpdated,
    membership_events.CarrierSuspended,
    membership_events.CarrierLeft,
    membership_events.CarrierSnapshot,
)
STARTUP_EVENTS = (
    membership_events.StartupRegistered,
    membership_events.StartupUpdated,
    membership_events.StartupSnapshot,
)
LAWYER_EVENTS = (ev.LawyerRegistered, ev.LawyerUpdated, ev.LawyerSnapshot)


def apply_carrier_event(uow: UnitOfWork, event: Event) -> None:
    tx = uow.tx
    carrier: membership.Carrier = getattr(event.decode(), "carrier")  # noqa: B009
    known = store.carrier_version(tx, carrier.name)
    if known is not None and known >= event.version:
        return
    store.put_carrier(
        tx,
        store.KnownCarrier(
            carrier.name,
            carrier.name.split("/")[1],
            carrier.display_name,
            carrier.state == membership.CARRIER_STATE_ACTIVE,
        ),
        event.version,
    )


def apply_startup_event(uow: UnitOfWork, event: Event) -> None:
    tx = uow.tx
    startup: membership.Startup = getattr(event.decode(), "startup")  # noqa: B009
    known = store.startup_version(tx, startup.name)
    if known is not None and known >= event.version:
        return
    carrier = startup.name.rsplit("/startups/", 1)[0]
    store.put_startup(tx, startup.name, carrier, startup.legal_needs, event.version)


def apply_lawyer_event(uow: UnitOfWork, event: Event) -> None:
    tx = uow.tx
    lawyer: pb.Lawyer = getattr(event.decode(), "lawyer")  # noqa: B009
    lawyer_id = lawyer.name.rsplit("/", 1)[-1]
    known = store.get_lawyer(tx, lawyer_id)
    if known is not None and known[1] >= event.version:
        return
    store.put_lawyer(tx, lawyer_id, lawyer, event.version)


PROJECTION = Projection(
    subjects=["alliance.{region}.pairing.lawyer.>"],
    subjects_of_every_region=[
        "alliance.{region}.membership.carrier.>",
        "alliance.{region}.membership.startup.>",
    ],
    handlers={
        **{type_of(e): apply_carrier_event for e in CARRIER_EVENTS},
        **{type_of(e): apply_startup_event for e in STARTUP_EVENTS},
        **{type_of(e): apply_lawyer_event for e in LAWYER_EVENTS},
    },
)
