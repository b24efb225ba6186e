"""The request workflow across regions, driven by events (DESIGN §2, invariant 2).

    requester region                       owner region (single writer of capacity)
    CreateRequest ── request.created ───▶  hold units or waitlist ── booking.held / .waitlisted
    request PENDING / WAITLISTED ◀──────── (ApproveRequest / DeclineRequest by the owner)
    request APPROVED / DECLINED  ◀──────── booking.approved / .declined
    CancelRequest ── request.cancelled ─▶  release units, promote the waitlist ── booking.released,
                                           booking.held for each promoted request

Every region also copies every other region's resources (for search) and bookings (for
free-units search and stats), and every region's carriers. Events of this region come back
through the same consumer, so a request within one region takes the same path as one across
regions. The owner's side is `Capacity`; this module only routes events to it and keeps copies.
"""

from __future__ import annotations

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel.event_types import type_of
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.members import CARRIER_EVENTS
from yrd_alliance.kernel.ports import UnitOfWork
from yrd_alliance.kernel.projection import Projection, keeping
from yrd_alliance.kernel.resources import stamp
from yrd_alliance.sharing.capacity import Capacity
from yrd_alliance.sharing.store import BOOKINGS, CARRIERS, REQUESTS, RESOURCES

REQUEST_STATES = {
    pb.BOOKING_STATE_HELD: pb.REQUEST_STATE_PENDING,
    pb.BOOKING_STATE_WAITLISTED: pb.REQUEST_STATE_WAITLISTED,
    pb.BOOKING_STATE_APPROVED: pb.REQUEST_STATE_APPROVED,
    pb.BOOKING_STATE_DECLINED: pb.REQUEST_STATE_DECLINED,
    pb.BOOKING_STATE_EXPIRED: pb.REQUEST_STATE_EXPIRED,
    pb.BOOKING_STATE_FULFILLED: pb.REQUEST_STATE_FULFILLED,
}
RESOURCE_EVENTS = (ev.ResourceCreated, ev.ResourceUpdated, ev.ResourceSnapshot)


def projection(capacity: Capacity) -> Projection:
    region = capacity.region

    def on_request_created(uow: UnitOfWork, event: Event) -> None:
        capacity.take(uow, getattr(event.decode(), "request"))  # noqa: B009

    def on_request_cancelled(uow: UnitOfWork, event: Event) -> None:
        capacity.cancel(uow, getattr(event.decode(), "request"))  # noqa: B009

    def on_booking_changed(uow: UnitOfWork, event: Event) -> None:
        record: pb.Booking = getattr(event.decode(), "booking")  # noqa: B009
        if event.region != region:  # the owner's own are recorded by Capacity
            owner = uow.rows(RESOURCES).find(record.resource)
            uow.rows(BOOKINGS).apply_if_newer(
                record, event.version, owner=owner.message.owner if owner else "", seq=0
            )
        if record.request.split("/")[1] == region:
            _apply_to_request(uow, record, event.version)

    return Projection(
        subjects=[],
        subjects_of_every_region=[
            "alliance.{region}.sharing.>",
            "alliance.{region}.membership.carrier.>",
        ],
        handlers={
            # this region's own resource events find their rows as new already
            **keeping(RESOURCE_EVENTS, RESOURCES, "resource"),
            **keeping(CARRIER_EVENTS, CARRIERS, "carrier"),
            type_of(ev.RequestCreated): on_request_created,
            type_of(ev.RequestCancelled): on_request_cancelled,
            type_of(ev.BookingChanged): on_booking_changed,
            type_of(ev.BookingSnapshot): on_booking_changed,
        },
    )


def _apply_to_request(uow: UnitOfWork, record: pb.Booking, version: int) -> None:
    """The owner's decision, as the requester's region shows it on the request."""
    requests = uow.rows(REQUESTS)
    found = requests.find(record.request)
    if found is None:
        return
    request, owner_version = found.message, found.columns.get("owner_version", 0)
    if owner_version >= version or request.state == pb.REQUEST_STATE_CANCELLED:
        return
    state = REQUEST_STATES.get(record.state)
    if state is None:
        return
    request.state = state  # type: ignore[assignment]
    request.capacity_held = record.state in (pb.BOOKING_STATE_HELD, pb.BOOKING_STATE_APPROVED)
    request.waitlist_position = record.waitlist_position
    request.reason = record.reason
    stamp(request, found.version + 1)
    requests.put(request, found.version + 1, owner_version=version)
