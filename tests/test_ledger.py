"""The capacity ledger as a state machine: hypothesis drives random requests, approvals,
declines, cancellations, expiries and fulfilments, and after every step the bookings are
checked against a count over a discrete clock written here."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from yrd_alliance.sharing.ledger import OCCUPYING, Booking, Ledger, LedgerError, State

HOURS = 12  # windows are whole hours in [0, HOURS)


class LedgerMachine(RuleBasedStateMachine):
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.capacity = 3
        self.ledger = Ledger(self.capacity, [])
        self.count = 0

    @rule(
        target=requests,
        units=st.integers(1, 4),
        start=st.integers(0, HOURS - 1),
        length=st.integers(1, 4),
    )
    def request(self, units: int, start: int, length: int) -> str:
        self.count += 1
        name = f"regions/hz/requests/{self.count}"
        end = min(start + length, HOURS)
        fits_before = self._fits(units, start, end)
        (booking,) = self.ledger.request(name, units, start, end)
        assert booking.state is (State.HELD if fits_before else State.WAITLISTED)
        return name

    @rule(name=requests)
    def approve(self, name: str) -> None:
        self._try(lambda: self.ledger.approve(name), {State.HELD}, name)

    @rule(name=requests)
    def decline(self, name: str) -> None:
        self._try(lambda: self.ledger.decline(name, "busy"), {State.HELD, State.WAITLISTED}, name)

    @rule(name=requests)
    def expire(self, name: str) -> None:
        self._try(lambda: self.ledger.expire(name), {State.HELD, State.WAITLISTED}, name)

    @rule(name=requests)
    def fulfil(self, name: str) -> None:
        self._try(lambda: self.ledger.fulfil(name), {State.APPROVED}, name)

    @rule(name=requests)
    def cancel(self, name: str) -> None:
        before = self.ledger.bookings[name].state
        changed = self.ledger.cancel(name)
        if before in (State.DECLINED, State.EXPIRED, State.RELEASED, State.FULFILLED):
            assert changed == []
        else:
            assert changed[0].state is State.RELEASED

    def _try(self, call, allowed: set[State], name: str) -> None:  # type: ignore[no-untyped-def]
        before = self.ledger.bookings[name].state
        if before in allowed:
            call()
        else:
            with pytest.raises(LedgerError):
                call()
            assert self.ledger.bookings[name].state is before, "a refused step changes nothing"

    def _occupied(self, hour: int) -> int:
        return sum(
            b.units
            for b in self.ledger.bookings.values()
            if b.state in OCCUPYING and b.start <= hour < b.end
        )

    def _fits(self, units: int, start: int, end: int) -> bool:
        return all(self._occupied(h) + units <= self.capacity for h in range(start, end))

    @invariant()
    def never_overbooked(self) -> None:
        for hour in range(HOURS):
            assert 0 <= self._occupied(hour) <= self.capacity

    @invariant()
    def no_waitlisted_request_would_fit(self) -> None:
        for booking in self.ledger.waitlist():
            assert not self._fits(booking.units, booking.start, booking.end), booking

    @invariant()
    def ledger_counts_like_the_clock(self) -> None:
        for start in range(HOURS):
            for end in range(start + 1, HOURS + 1):
                expected = max(self._occupied(h) for h in range(start, end))
                assert self.ledger.used(start, end) == expected


TestLedger = LedgerMachine.TestCase
TestLedger.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)


def test_twenty_requests_for_three_units_hold_three_and_a_release_promotes_the_first() -> None:
    ledger = Ledger(3, [])
    for i in range(20):
        ledger.request(f"r{i:02d}", 1, 0, 10)
    held = [b.request for b in ledger.bookings.values() if b.state is State.HELD]
    assert held == ["r00", "r01", "r02"]
    assert [b.request for b in ledger.waitlist()][:2] == ["r03", "r04"]
    assert ledger.position("r03") == 1
    for name in held:
        ledger.approve(name)
    changed = ledger.cancel("r01")
    assert [(b.request, b.state) for b in changed] == [
        ("r01", State.RELEASED),
        ("r03", State.HELD),
    ]


def test_unlimited_resources_hold_everything() -> None:
    ledger = Ledger(0, [])
    assert all(ledger.request(f"r{i}", 1000, 0, 5)[0].state is State.HELD for i in range(10))
    assert ledger.free(0, 5) is None


def test_a_large_request_at_the_head_does_not_block_smaller_ones() -> None:
    ledger = Ledger(3, [Booking("a", 2, 0, 10, State.APPROVED, 1)])
    ledger.request("big", 3, 0, 10)
    ledger.request("small", 1, 0, 10)
    assert ledger.bookings["big"].state is State.WAITLISTED
    assert ledger.bookings["small"].state is State.HELD
