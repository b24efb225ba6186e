"""Requests use cases, in the requester's region: a carrier asks for units of a resource for a
window, follows the request as the owner's region decides, and may cancel it."""

from __future__ import annotations

import time
from collections.abc import Callable

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Principal, Role
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied, Violations
from yrd_alliance.kernel.members import CARRIER
from yrd_alliance.kernel.names import REGION, new_id
from yrd_alliance.kernel.ports import Ports, UnitOfWork
from yrd_alliance.kernel.resources import stamp
from yrd_alliance.kernel.updates import check_etag
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.sharing import rules
from yrd_alliance.sharing.access import (
    authorize_home_carrier,
    authorize_write,
    ensure_active_carrier,
)
from yrd_alliance.sharing.rules import REQUEST, SERVICE
from yrd_alliance.sharing.store import REQUESTS, RESOURCES

CANCELLABLE = {
    pb.REQUEST_STATE_PENDING,
    pb.REQUEST_STATE_WAITLISTED,
    pb.REQUEST_STATE_APPROVED,
}


class Requests(UseCases):
    service = SERVICE

    def __init__(self, ports: Ports, clock: Callable[[], float] = time.time) -> None:
        super().__init__(ports)
        self._clock = clock

    async def create_request(self, request: pb.CreateRequestRequest, who: Principal) -> pb.Request:
        self.check_create(
            request.parent, request.request_id, lambda v: rules.check_request(v, request.request)
        )
        wanted = request.request
        authorize_home_carrier(who, self.region, wanted.requester, "ask from there", self.storage)

        def ask(uow: UnitOfWork) -> pb.Request:
            ensure_active_carrier(uow, wanted.requester)
            resource = uow.rows(RESOURCES).require(wanted.resource).message
            if resource.state != pb.RESOURCE_STATE_PUBLISHED:
                raise FailedPrecondition(f"{resource.name} is not published")
            start = rules.seconds(wanted.window.start_time)
            end = rules.seconds(wanted.window.end_time)
            if start <= self._clock():
                raise FailedPrecondition("the window has already begun; ask for a later one")
            if not rules.within_availability(resource, start, end):
                raise FailedPrecondition(
                    "the window is outside the resource's availability; see its availability"
                )
            if resource.capacity and wanted.units > resource.capacity:
                raise FailedPrecondition(f"{resource.name} has {resource.capacity} units in all")
            created = pb.Request()
            created.CopyFrom(wanted)
            created.name = REQUEST.format(region=self.region, request=new_id())
            created.state = pb.REQUEST_STATE_PENDING
            return created

        made = ("created", lambda r: ev.RequestCreated(request=r))
        return await self.create(who, request.request_id, "CreateRequest", REQUESTS, ask, made)

    def get_request(self, request: pb.GetRequestRequest, who: Principal) -> pb.Request:
        found = self.get(REQUESTS, REQUEST, request.name)
        resource = self.storage.rows(RESOURCES).find(found.resource)
        owner = resource.message.owner if resource else ""
        rules.request_readers(found, owner).require(who, found.name)
        return found

    def list_requests(self, request: pb.ListRequestsRequest, who: Principal) -> bytes:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        CARRIER.parse_if_given(v, "requester", request.requester)
        check.enum(v, "state", request.state, pb.RequestState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert parent is not None
        if not (who.role is Role.CARRIER or who.is_operator_of(parent["region"])):
            raise PermissionDenied(
                f"requests are listed for their requester and {parent['region']}'s operators; "
                "an owner lists those for its resources with ListIncomingRequests"
            )
        requester, _ = who.scope(carrier=request.requester)
        elsewhere = parent["region"] != self.region  # requests stay in the requester's region
        query = REQUESTS.where(requester=requester, state=request.state)
        return self.pages.of(
            pb.ListRequestsResponse, "requests", REQUESTS, query, request, nothing_here=elsewhere
        )

    async def cancel_request(self, request: pb.CancelRequestRequest, who: Principal) -> pb.Request:
        ids = REQUEST.require("name", request.name)
        self.ensure_home(ids["region"])
        async with self.storage.unit_of_work() as uow:
            found = uow.rows(REQUESTS).require(request.name)
            current, version = found.message, found.version
            authorize_write(who, self.region, current.requester, uow)
            check_etag(request.etag, current.etag, "etag")
            if current.state not in CANCELLABLE:
                raise FailedPrecondition(
                    f"{current.name} is {pb.RequestState.Name(current.state)}; it cannot be "
                    "cancelled"
                )
            current.state = pb.REQUEST_STATE_CANCELLED
            current.capacity_held = False
            stamp(current, version + 1)
            payload = ev.RequestCancelled(request=current)
            self.put(uow, REQUESTS, current, version + 1, "cancelled", payload)
        return current
