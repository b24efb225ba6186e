"""The request workflow across regions, driven by events (DESIGN §2, invariant 2).

    requester region                       owner region (single writer of capacity)
    CreateRequest ── request.created ───▶  hold units or waitlist ── booking.held / .waitlisted
    request PENDING / WAITLISTED ◀──────── (ApproveRequest / DeclineRequest by the owner)
    request APPROVED / DECLINED  ◀──────── booking.approved / .declined
    CancelRequest ── request.cancelled ─▶  release units, promote the waitlist ── booking.released,
                                           booking.held for each promoted request

Every region also copies every other region's resources (for search) and bookings (for
free-units search and stats). Events of this region come back through the same consumer, so a
request within one region takes the same path as one across regions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from alliance.membership.v1 import events_pb2 as membership_events
from alliance.membership.v1 import membership_pb2 as membership
from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb
from kernel.clock import to_timestamp, utcnow
from kernel.event_types import type_of
from kernel.events import Event
from kernel.projection import Projection
from kernel.resources import stamp
from kernel.server import Runtime
from kernel.unit_of_work import UnitOfWork

from sharing import rules, store
from sharing.ledger import Booking, Ledger, State

BOOKING_STATES = {
    State.HELD: pb.BOOKING_STATE_HELD,
    State.WAITLISTED: pb.BOOKING_STATE_WAITLISTED,
    State.APPROVED: pb.BOOKING_STATE_APPROVED,
    State.DECLINED: pb.BOOKING_STATE_DECLINED,
    State.EXPIRED: pb.BOOKING_STATE_EXPIRED,
    State.RELEASED: pb.BOOKING_STATE_RELEASED,
    State.FULFILLED: pb.BOOKING_STATE_FULFILLED,
}
REQUEST_STATES = {
    pb.BOOKING_STATE_HELD: pb.REQUEST_STATE_PENDING,
    pb.BOOKING_STATE_WAITLISTED: pb.REQUEST_STATE_WAITLISTED,
    pb.BOOKING_STATE_APPROVED: pb.REQUEST_STATE_APPROVED,
    pb.BOOKING_STATE_DECLINED: pb.REQUEST_STATE_DECLINED,
    pb.BOOKING_STATE_EXPIRED: pb.REQUEST_STATE_EXPIRED,
    pb.BOOKING_STATE_FULFILLED: pb.REQUEST_STATE_FULFILLED,
}
Emit = Callable[[Event], None]
CARRIER_EVENTS = (
    membership_events.CarrierRegistered,
    membership_events.CarrierUpdated,
    membership_events.CarrierSuspended,
    membership_events.CarrierLeft,
    membership_events.CarrierSnapshot,
)


class Workflow:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self.region = runtime.settings.region

    # -- the owner's side: the single writer of a resource's capacity -------------------------

    def ledger(self, tx: sqlite3.Connection, resource: pb.Resource, emit: Emit) -> Ledger:
        """The resource's ledger, with bookings whose window has begun expired first."""
        ledger = Ledger(resource.capacity, store.bookings_of(tx, resource.name))
        now = int(time.time())
        due = [
            b.request
            for b in ledger.bookings.values()
            if b.state in (State.HELD, State.WAITLISTED) and b.start <= now
        ]
        for request in due:
            self.record(tx, resource, ledger, ledger.expire(request), emit)
        return ledger

    def record(
        self,
        tx: sqlite3.Connection,
        resource: pb.Resource,
        ledger: Ledger,
        changed: list[Booking],
        emit: Emit,
        requester: str = "",
    ) -> list[pb.Booking]:
        """Stores the changed bookings and emits one event each; `requester` names the carrier
        of a booking seen for the first time."""
        records = []
        for booking in changed:
            known = store.get_booking(tx, booking.request)
            record = pb.Booking(requester=requester) if known is None else known[0]
            version = 1 if known is None else known[1] + 1
            record.request = booking.request
            record.resource = resource.name
            record.units = booking.units
            record.window.start_time.seconds = booking.start
            record.window.end_time.seconds = booking.end
            record.state = BOOKING_STATES[booking.state]  # type: ignore[assignment]
            record.reason = booking.reason
            record.waitlist_position = ledger.position(booking.request)
            record.update_time.CopyFrom(to_timestamp(utcnow()))
            store.put_booking(tx, booking, record, resource.owner, version)
            payload = ev.BookingChanged(booking=record)
            emit(self._rt.event("booking", booking.state.value, booking.request, version, payload))
            records.append(record)
        return records

    def _on_request_created(self, uow: UnitOfWork, event: Event) -> None:
        tx = uow.tx
        request: pb.Request = getattr(event.decode(), "request")  # noqa: B009
        resource = self._owned(tx, request.resource)
        if resource is None:
            return
        start = rules.seconds(request.window.start_time)
        end = rules.seconds(request.window.end_time)
        emit = uow.emit
        ledger = self.ledger(tx, resource, emit)
        refusal = _refusal(resource, request, start, end)
        if refusal:
            changed = ledger.refuse(request.name, request.units, start, end, refusal)
        else:
            changed = ledger.request(request.name, request.units, start, end)
        self.record(tx, resource, ledger, changed, emit, requester=request.requester)

    def _on_request_cancelled(self, uow: UnitOfWork, event: Event) -> None:
        tx = uow.tx
        request: pb.Request = getattr(event.decode(), "request")  # noqa: B009
        resource = self._owned(tx, request.resource)
        if resource is None:
            return
        emit = uow.emit
        ledger = self.ledger(tx, resource, emit)
        self.record(tx, resource, ledger, ledger.cancel(request.name), emit)

    def _owned(self, tx: sqlite3.Connection, resource_name: str) -> pb.Resource | None:
        if resource_name.split("/")[1] != self.region:
            return None
        found = store.get_resource(tx, resource_name.rsplit("/", 1)[-1])
        return None if found is None else found[0]

    async def expire_due(self) -> int:
        """Expires this region's held or waitlisted requests whose window has begun; returns
        how many resources it touched."""
        due = store.resources_with_due_bookings(self._rt.db.reader, self.region, int(time.time()))
        for name in due:
            async with self._rt.unit_of_work() as uow:
                found = store.get_resource(uow.tx, name.rsplit("/", 1)[-1])
                if found is not None:
                    self.ledger(uow.tx, found[0], uow.emit)
        return len(due)

    # -- every region: copies of the others, and the requester's side --------------------------

    def _on_booking_changed(self, uow: UnitOfWork, event: Event) -> None:
        tx = uow.tx
        record: pb.Booking = getattr(event.decode(), "booking")  # noqa: B009
        if event.region != self.region:
            known = store.get_booking(tx, record.request)
            if known is None or known[1] < event.version:
                state = next(s for s, v in BOOKING_STATES.items() if v == record.state)
                booking = Booking(
                    record.request,
                    record.units,
                    rules.seconds(record.window.start_time),
                    rules.seconds(record.window.end_time),
                    state,
                    0,
                    record.reason,
                )
                owner = _owner_of(tx, record.resource)
                store.put_booking(tx, booking, record, owner, event.version)
        if record.request.split("/")[1] == self.region:
            self._apply_to_request(tx, record, event.version)

    def _apply_to_request(self, tx: sqlite3.Connection, record: pb.Booking, version: int) -> None:
        found = store.get_request(tx, record.request.rsplit("/", 1)[-1])
        if found is None:
            return
        request, request_version, owner_version = found
        if owner_version >= version or request.state == pb.REQUEST_STATE_CANCELLED:
            return
        state = REQUEST_STATES.get(record.state)
        if state is None:
            return
        request.state = state  # type: ignore[assignment]
        request.capacity_held = record.state in (pb.BOOKING_STATE_HELD, pb.BOOKING_STATE_APPROVED)
        request.waitlist_position = record.waitlist_position
        request.reason = record.reason
        stamp(request, request_version + 1)
        store.put_request(
            tx, request.name.rsplit("/", 1)[-1], request, request_version + 1, version
        )

    def _on_resource(self, uow: UnitOfWork, event: Event) -> None:
        tx = uow.tx
        if event.region == self.region:
            return  # written by this region's use case already
        resource: pb.Resource = getattr(event.decode(), "resource")  # noqa: B009
        resource_id = resource.name.rsplit("/", 1)[-1]
        known = store.get_resource(tx, resource_id)
        if known is None or known[1] < event.version:
            store.put_resource(tx, resource_id, resource, event.version)

    def _on_carrier(self, uow: UnitOfWork, event: Event) -> None:
        tx = uow.tx
        carrier: membership.Carrier = getattr(event.decode(), "carrier")  # noqa: B009
        store.put_carrier(
            tx, carrier.name, carrier.state == membership.CARRIER_STATE_ACTIVE, event.version
        )

    def projection(self) -> Projection:
        handlers = {
            type_of(ev.ResourceCreated): self._on_resource,
            type_of(ev.ResourceUpdated): self._on_resource,
            type_of(ev.ResourceSnapshot): self._on_resource,
            type_of(ev.RequestCreated): self._on_request_created,
            type_of(ev.RequestCancelled): self._on_request_cancelled,
            type_of(ev.BookingChanged): self._on_booking_changed,
            type_of(ev.BookingSnapshot): self._on_booking_changed,
        }
        handlers |= {type_of(e): self._on_carrier for e in CARRIER_EVENTS}
        return Projection(
            subjects=[],
            subjects_of_every_region=[
                "alliance.{region}.sharing.>",
                "alliance.{region}.membership.carrier.>",
            ],
            handlers=handlers,
        )


def _owner_of(tx: sqlite3.Connection, resource_name: str) -> str:
    found = store.get_resource(tx, resource_name.rsplit("/", 1)[-1])
    return "" if found is None else found[0].owner


def _refusal(resource: pb.Resource, request: pb.Request, start: int, end: int) -> str:
    """Why the owner's region turns a request down at once, or "" when it may be held."""
    if resource.state != pb.RESOURCE_STATE_PUBLISHED:
        return "the resource is not published"
    if (
        resource.visibility == pb.VISIBILITY_REGION
        and request.name.split("/")[1] != (resource.name.split("/")[1])
    ):
        return "the resource is shared only within its region"
    if not rules.within_availability(resource, start, end):
        return "the window is outside the resource's availability"
    if resource.capacity and request.units > resource.capacity:
        return f"the resource has {resource.capacity} units in all"
    return ""
