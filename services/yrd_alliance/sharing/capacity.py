"""The owner region's decisions on its resources' units: the single writer of capacity (DESIGN
invariant 2). It loads a resource's ledger, applies a change (a request taken, a cancellation,
the owner's decision, an expiry) and records every booking that moved, with one event each."""

from __future__ import annotations

import time
from collections.abc import Callable

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel.clock import to_timestamp, utcnow
from yrd_alliance.kernel.ports import EventFactory, Reader, Storage, UnitOfWork
from yrd_alliance.sharing import rules
from yrd_alliance.sharing.ledger import Booking, Ledger, State
from yrd_alliance.sharing.store import BOOKING_STATES, BOOKINGS, RESOURCES, booking_of


class Capacity:
    def __init__(
        self, region: str, events: EventFactory, clock: Callable[[], float] = time.time
    ) -> None:
        self.region = region
        self._event = events
        self._clock = clock

    def owned(self, reader: Reader, resource_name: str) -> pb.Resource | None:
        """The resource, if this region owns it and knows it."""
        if resource_name.split("/")[1] != self.region:
            return None
        found = reader.rows(RESOURCES).find(resource_name)
        return None if found is None else found.message

    def ledger(self, uow: UnitOfWork, resource: pb.Resource) -> Ledger:
        """The resource's ledger, with bookings whose window has begun expired first."""
        rows = uow.rows(BOOKINGS).columns(BOOKINGS.where(resource=resource.name))
        ledger = Ledger(resource.capacity, [booking_of(row) for row in rows])
        now = int(self._clock())
        due = [
            b.request
            for b in ledger.bookings.values()
            if b.state in (State.HELD, State.WAITLISTED) and b.start <= now
        ]
        for request in due:
            self.record(uow, resource, ledger, ledger.expire(request))
        return ledger

    def record(
        self,
        uow: UnitOfWork,
        resource: pb.Resource,
        ledger: Ledger,
        changed: list[Booking],
        requester: str = "",
    ) -> list[pb.Booking]:
        """Stores the changed bookings and emits one event each; `requester` names the carrier
        of a booking seen for the first time."""
        bookings = uow.rows(BOOKINGS)
        records = []
        for booking in changed:
            known = bookings.find(booking.request)
            record = pb.Booking(requester=requester) if known is None else known.message
            version = 1 if known is None else known.version + 1
            record.request = booking.request
            record.resource = resource.name
            record.units = booking.units
            record.window.start_time.seconds = booking.start
            record.window.end_time.seconds = booking.end
            record.state = BOOKING_STATES[booking.state]  # type: ignore[assignment]
            record.reason = booking.reason
            record.waitlist_position = ledger.position(booking.request)
            record.update_time.CopyFrom(to_timestamp(utcnow()))
            bookings.put(record, version, owner=resource.owner, seq=booking.seq)
            payload = ev.BookingChanged(booking=record)
            uow.emit(self._event("booking", booking.state.value, booking.request, version, payload))
            records.append(record)
        return records

    def take(self, uow: UnitOfWork, request: pb.Request) -> None:
        """A new request for one of this region's resources: units held, waitlisted, or the
        request refused at once."""
        resource = self.owned(uow, request.resource)
        if resource is None:
            return
        start = rules.seconds(request.window.start_time)
        end = rules.seconds(request.window.end_time)
        ledger = self.ledger(uow, resource)
        refusal = _refusal(resource, request, start, end)
        if refusal:
            changed = ledger.refuse(request.name, request.units, start, end, refusal)
        else:
            changed = ledger.request(request.name, request.units, start, end)
        self.record(uow, resource, ledger, changed, requester=request.requester)

    def cancel(self, uow: UnitOfWork, request: pb.Request) -> None:
        """A request cancelled by its requester: units released, the waitlist promoted."""
        resource = self.owned(uow, request.resource)
        if resource is None:
            return
        ledger = self.ledger(uow, resource)
        self.record(uow, resource, ledger, ledger.cancel(request.name))

    async def expire_due(self, storage: Storage) -> int:
        """Expires this region's held or waitlisted requests whose window has begun; returns
        how many resources it touched."""
        now, mine = int(self._clock()), f"regions/{self.region}/resources/"
        bookings = storage.rows(BOOKINGS)
        due = sorted(
            {
                row["resource"]
                for state in (State.HELD, State.WAITLISTED)
                for row in bookings.columns(BOOKINGS.where(state=state.value))
                if row["start"] <= now and row["resource"].startswith(mine)
            }
        )
        for name in due:
            async with storage.unit_of_work() as uow:
                resource = self.owned(uow, name)
                if resource is not None:
                    self.ledger(uow, resource)
        return len(due)


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
