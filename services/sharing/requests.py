"""Requests use cases, in the requester's region: a carrier asks for units of a resource for a
window, follows the request as the owner's region decides, and may cancel it."""

from __future__ import annotations

import time
from collections.abc import Callable

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb
from kernel import validation as check
from kernel.auth import Principal
from kernel.errors import FailedPrecondition, Violations
from kernel.members import CARRIER
from kernel.names import REGION, new_id
from kernel.ports import Ports
from kernel.resources import ensure_home, stamp
from kernel.updates import check_etag

from sharing import rules
from sharing.access import authorize_for, ensure_active_carrier
from sharing.rules import REQUEST, SERVICE
from sharing.store import REQUESTS, RESOURCES

CANCELLABLE = {
    pb.REQUEST_STATE_PENDING,
    pb.REQUEST_STATE_WAITLISTED,
    pb.REQUEST_STATE_APPROVED,
}


class Requests:
    def __init__(self, ports: Ports, clock: Callable[[], float] = time.time) -> None:
        self._storage = ports.storage
        self._event = ports.events
        self._pages = ports.pages
        self._clock = clock
        self.region = ports.region

    async def create_request(self, request: pb.CreateRequestRequest, who: Principal) -> pb.Request:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        rules.check_request(v, request.request)
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        ensure_home(SERVICE, self.region, parent["region"])
        wanted = request.request
        if wanted.requester.split("/")[1] != self.region:
            raise FailedPrecondition(
                f"{wanted.requester} belongs to another region; ask from there"
            )
        authorize_for(who, self.region, wanted.requester)
        async with self._storage.unit_of_work() as uow:
            requests = uow.rows(REQUESTS)
            earlier = uow.earlier_result(request.request_id, "CreateRequest")
            if earlier:
                return requests.require(earlier).message
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
            stamp(created, 1, created=True)
            requests.put(created, 1)
            uow.remember_result(request.request_id, "CreateRequest", created.name)
            payload = ev.RequestCreated(request=created)
            uow.emit(self._event("request", "created", created.name, 1, payload))
        return created

    def get_request(self, request: pb.GetRequestRequest, who: Principal) -> pb.Request:
        REQUEST.require("name", request.name)
        found = self._storage.rows(REQUESTS).require(request.name).message
        who.scope(carrier=found.requester)
        return found

    def list_requests(self, request: pb.ListRequestsRequest, who: Principal) -> bytes:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        if request.requester:
            CARRIER.parse(v, "requester", request.requester)
        check.enum(v, "state", request.state, pb.RequestState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert parent is not None
        requester, _ = who.scope(carrier=request.requester)
        elsewhere = parent["region"] != self.region  # requests stay in the requester's region
        query = REQUESTS.where(requester=requester, state=request.state)
        return self._pages.of(
            pb.ListRequestsResponse, "requests", REQUESTS, query, request, nothing_here=elsewhere
        )

    async def cancel_request(self, request: pb.CancelRequestRequest, who: Principal) -> pb.Request:
        ids = REQUEST.require("name", request.name)
        ensure_home(SERVICE, self.region, ids["region"])
        async with self._storage.unit_of_work() as uow:
            requests = uow.rows(REQUESTS)
            found = requests.require(request.name)
            current, version = found.message, found.version
            authorize_for(who, self.region, current.requester)
            check_etag(request.etag, current.etag, "etag")
            if current.state not in CANCELLABLE:
                raise FailedPrecondition(
                    f"{current.name} is {pb.RequestState.Name(current.state)}; it cannot be "
                    "cancelled"
                )
            current.state = pb.REQUEST_STATE_CANCELLED
            current.capacity_held = False
            stamp(current, version + 1)
            requests.put(current, version + 1)
            payload = ev.RequestCancelled(request=current)
            uow.emit(self._event("request", "cancelled", current.name, version + 1, payload))
        return current
