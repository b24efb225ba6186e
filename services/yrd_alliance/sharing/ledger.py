"""One resource's capacity, free of I/O: the owner region's record of who holds which units when.

A booking occupies its units over its window while HELD (awaiting the owner), APPROVED or
FULFILLED. A new request is held when its units fit at every instant of its window, else
waitlisted. Whenever units are released (a decline, a cancellation, an expiry), the waitlist is
walked in arrival order and every booking that now fits is held — so a large request at the head
does not block smaller ones behind it, and nothing ever overbooks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum


class State(Enum):
    HELD = "held"
    WAITLISTED = "waitlisted"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"
    RELEASED = "released"
    FULFILLED = "fulfilled"


OCCUPYING = frozenset({State.HELD, State.APPROVED, State.FULFILLED})
FINAL = frozenset({State.DECLINED, State.EXPIRED, State.RELEASED, State.FULFILLED})


class LedgerError(Exception):
    """The booking is not in a state that allows this; the message says which."""


@dataclass(frozen=True)
class Booking:
    request: str
    units: int
    start: int  # epoch seconds, inclusive
    end: int  # exclusive
    state: State
    seq: int  # arrival order at the owner; the waitlist's order
    reason: str = ""

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


class Ledger:
    def __init__(self, capacity: int, bookings: list[Booking]) -> None:
        self.capacity = capacity  # 0 = unlimited
        self.bookings = {b.request: b for b in bookings}

    # -- queries ----------------------------------------------------------------------------

    def used(self, start: int, end: int, *, ignoring: str = "") -> int:
        """The most units occupied at any instant of [start, end)."""
        occupying = [
            b
            for b in self.bookings.values()
            if b.state in OCCUPYING and b.request != ignoring and b.overlaps(start, end)
        ]
        instants = {start} | {b.start for b in occupying if start < b.start < end}
        return max(
            (sum(b.units for b in occupying if b.start <= t < b.end) for t in instants),
            default=0,
        )

    def fits(self, units: int, start: int, end: int, *, ignoring: str = "") -> bool:
        return self.capacity == 0 or self.used(start, end, ignoring=ignoring) + units <= (
            self.capacity
        )

    def free(self, start: int, end: int) -> int | None:
        """Units free throughout the window; None when unlimited."""
        return None if self.capacity == 0 else max(0, self.capacity - self.used(start, end))

    def waitlist(self) -> list[Booking]:
        return sorted(
            (b for b in self.bookings.values() if b.state is State.WAITLISTED),
            key=lambda b: b.seq,
        )

    def position(self, request: str) -> int:
        """1-based place in the waitlist, 0 when not waitlisted."""
        for index, booking in enumerate(self.waitlist(), start=1):
            if booking.request == request:
                return index
        return 0

    # -- operations: each returns the bookings it changed, in order --------------------------

    def request(self, request: str, units: int, start: int, end: int) -> list[Booking]:
        if request in self.bookings:
            return []  # a repeated request changes nothing
        seq = max((b.seq for b in self.bookings.values()), default=0) + 1
        state = State.HELD if self.fits(units, start, end) else State.WAITLISTED
        return [self._put(Booking(request, units, start, end, state, seq))]

    def refuse(self, request: str, units: int, start: int, end: int, reason: str) -> list[Booking]:
        """Records a request the owner's region turns down at once (it occupies nothing)."""
        if request in self.bookings:
            return []
        seq = max((b.seq for b in self.bookings.values()), default=0) + 1
        return [self._put(Booking(request, units, start, end, State.DECLINED, seq, reason))]

    def approve(self, request: str) -> list[Booking]:
        booking = self._expect(request, {State.HELD}, "approve")
        return [self._put(replace(booking, state=State.APPROVED))]

    def decline(self, request: str, reason: str) -> list[Booking]:
        booking = self._expect(request, {State.HELD, State.WAITLISTED}, "decline")
        return self._release(replace(booking, state=State.DECLINED, reason=reason))

    def cancel(self, request: str) -> list[Booking]:
        """The requester withdrew; unknown or final bookings are left as they are."""
        booking = self.bookings.get(request)
        if booking is None or booking.state in FINAL:
            return []
        return self._release(replace(booking, state=State.RELEASED, reason="cancelled"))

    def expire(
        self, request: str, reason: str = "the window began before a decision"
    ) -> list[Booking]:
        booking = self._expect(request, {State.HELD, State.WAITLISTED}, "expire")
        return self._release(replace(booking, state=State.EXPIRED, reason=reason))

    def fulfil(self, request: str) -> list[Booking]:
        booking = self._expect(request, {State.APPROVED}, "mark as fulfilled")
        return [self._put(replace(booking, state=State.FULFILLED))]

    # -- helpers ----------------------------------------------------------------------------

    def _expect(self, request: str, states: set[State], action: str) -> Booking:
        booking = self.bookings.get(request)
        if booking is None:
            raise LedgerError(f"{request} is not a request for this resource")
        if booking.state not in states:
            allowed = " or ".join(sorted(s.value for s in states))
            raise LedgerError(
                f"{request} is {booking.state.value}; only a {allowed} request can {action}"
            )
        return booking

    def _put(self, booking: Booking) -> Booking:
        self.bookings[booking.request] = booking
        return booking

    def _release(self, booking: Booking) -> list[Booking]:
        changed = [self._put(booking)]
        for waiting in self.waitlist():
            if self.fits(waiting.units, waiting.start, waiting.end):
                changed.append(self._put(replace(waiting, state=State.HELD)))
        return changed
