"""The owner's decisions, in the resource's home region: its queue of incoming requests, and
approving, declining or fulfilling one. Capacity itself is `Capacity`'s."""

from __future__ import annotations

from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import FailedPrecondition, NotFound, Violations
from yrd_alliance.kernel.members import CARRIER
from yrd_alliance.kernel.ports import Ports
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.sharing.access import authorize_for, authorize_write
from yrd_alliance.sharing.capacity import Capacity
from yrd_alliance.sharing.ledger import LedgerError
from yrd_alliance.sharing.rules import REQUEST, RESOURCE, SERVICE
from yrd_alliance.sharing.store import BOOKINGS, RESOURCES


class Decisions(UseCases):
    service = SERVICE

    def __init__(self, ports: Ports, capacity: Capacity) -> None:
        super().__init__(ports)
        self._capacity = capacity

    def list_incoming(self, request: pb.ListIncomingRequestsRequest, who: Principal) -> bytes:
        v = Violations()
        owner = CARRIER.parse(v, "parent", request.parent)
        RESOURCE.parse_if_given(v, "resource", request.resource)
        check.enum(v, "state", request.state, pb.BookingState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert owner is not None
        self.ensure_home(owner["region"])
        authorize_for(who, self.region, request.parent)
        state = ""
        if request.state:
            state = pb.BookingState.Name(request.state).removeprefix("BOOKING_STATE_").lower()
        query = BOOKINGS.where(owner=request.parent, resource=request.resource, state=state)
        return self.pages.of(pb.ListIncomingRequestsResponse, "bookings", BOOKINGS, query, request)

    async def approve(self, request: pb.ApproveRequestRequest, who: Principal) -> pb.Booking:
        return await self._decide(who, request.name, "approve", "")

    async def decline(self, request: pb.DeclineRequestRequest, who: Principal) -> pb.Booking:
        v = Violations()
        check.text(v, "reason", request.reason, required=True, max_len=500)
        v.raise_if_any()
        return await self._decide(who, request.name, "decline", request.reason)

    async def fulfil(self, request: pb.FulfillRequestRequest, who: Principal) -> pb.Booking:
        return await self._decide(who, request.name, "fulfil", "")

    async def _decide(self, who: Principal, name: str, action: str, reason: str) -> pb.Booking:
        REQUEST.require("name", name)
        async with self.storage.unit_of_work() as uow:
            booking = uow.rows(BOOKINGS).find(name)
            if booking is None:
                raise NotFound(
                    f"{name} is unknown here; decide in the region that owns its resource, "
                    "once its request.created event has arrived"
                )
            resource = uow.rows(RESOURCES).require(booking.message.resource).message
            self.ensure_home(resource.name.split("/")[1])
            authorize_write(who, self.region, resource.owner, uow)
            ledger = self._capacity.ledger(uow, resource)
            try:
                if action == "approve":
                    changed = ledger.approve(name)
                elif action == "decline":
                    changed = ledger.decline(name, reason)
                else:
                    changed = ledger.fulfil(name)
            except LedgerError as exc:
                raise FailedPrecondition(str(exc)) from None
            records = self._capacity.record(uow, resource, ledger, changed)
        return records[0]
