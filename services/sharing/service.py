"""Sharing use cases: each validates, authorises, changes state and emits its events in one unit
of work. Decisions on capacity happen only in the resource's home region (flow.Workflow)."""

from __future__ import annotations

import sqlite3
import time

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb
from kernel import validation as check
from kernel.auth import Role, caller
from kernel.errors import FailedPrecondition, NotFound, PermissionDenied, Violations
from kernel.names import REGION, new_id
from kernel.paging import page_of
from kernel.resources import ensure_home, stamp
from kernel.server import Runtime
from kernel.updates import check_etag, mask_paths, merge_update

from sharing import rules, search, store
from sharing.flow import Workflow
from sharing.ledger import LedgerError, State
from sharing.rules import CARRIER, REQUEST, RESOURCE

SERVICE = "sharing"
TRANSITIONS = {
    pb.RESOURCE_STATE_DRAFT: {pb.RESOURCE_STATE_PUBLISHED},
    pb.RESOURCE_STATE_PUBLISHED: {pb.RESOURCE_STATE_WITHDRAWN},
    pb.RESOURCE_STATE_WITHDRAWN: {pb.RESOURCE_STATE_PUBLISHED},
}
CANCELLABLE = {
    pb.REQUEST_STATE_PENDING,
    pb.REQUEST_STATE_WAITLISTED,
    pb.REQUEST_STATE_APPROVED,
}


class Sharing:
    def __init__(self, runtime: Runtime, workflow: Workflow) -> None:
        self._rt = runtime
        self._flow = workflow
        self.region = runtime.settings.region

    # -- resources --------------------------------------------------------------------------

    async def create_resource(self, request: pb.CreateResourceRequest) -> pb.Resource:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        resource = pb.Resource()
        resource.CopyFrom(request.resource)
        resource.state = resource.state or pb.RESOURCE_STATE_DRAFT  # type: ignore[assignment]
        rules.check_resource(v, resource)
        if resource.state == pb.RESOURCE_STATE_WITHDRAWN:
            v.add("resource.state", "must be DRAFT or PUBLISHED on create")
        check.request_id(v, request.request_id)
        v.raise_if_any()
        assert parent is not None
        ensure_home(SERVICE, self.region, parent["region"])
        if resource.owner.split("/")[1] != self.region:
            raise FailedPrecondition(
                f"{resource.owner} belongs to another region; its resources live there"
            )
        self._authorize_for(resource.owner)
        async with self._rt.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "CreateResource")
            if earlier:
                return self._resource(uow.tx, earlier)[0]
            self._ensure_active_carrier(uow.tx, resource.owner)
            resource_id = new_id()
            resource.name = RESOURCE.format(region=self.region, resource=resource_id)
            stamp(resource, 1, created=True)
            store.put_resource(uow.tx, resource_id, resource, 1)
            uow.remember_result(request.request_id, "CreateResource", resource.name)
            payload = ev.ResourceCreated(resource=resource)
            uow.emit(self._rt.event("resource", "created", resource.name, 1, payload))
        return resource

    def get_resource(self, request: pb.GetResourceRequest) -> pb.Resource:
        RESOURCE.require("name", request.name)
        return self._resource(self._rt.db.reader, request.name)[0]

    def list_resources(self, request: pb.ListResourcesRequest) -> bytes:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        if request.owner:
            CARRIER.parse(v, "owner", request.owner)
        check.enum(v, "state", request.state, pb.ResourceState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert parent is not None
        query = store.ResourceFilter(parent["region"], request.owner, request.state)
        return self._rt.page_tokens.page(
            pb.ListResourcesResponse,
            "resources",
            query.key(),
            request.page_size,
            request.page_token,
            lambda after, limit: store.list_resources(self._rt.db.reader, query, after, limit),
        )

    async def update_resource(self, request: pb.UpdateResourceRequest) -> pb.Resource:
        v = Violations()
        ids = RESOURCE.parse(v, "resource.name", request.resource.name)
        paths = mask_paths(v, request.update_mask.paths, rules.RESOURCE_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        ensure_home(SERVICE, self.region, ids["region"])
        async with self._rt.unit_of_work() as uow:
            current, version = self._resource(uow.tx, request.resource.name)
            self._authorize_for(current.owner)
            check_etag(request.resource.etag, current.etag, "resource.etag")
            target = request.resource.state
            if "state" in paths and target != current.state:
                if target not in TRANSITIONS.get(current.state, set()):
                    raise FailedPrecondition(
                        f"a {pb.ResourceState.Name(current.state)} resource cannot become "
                        f"{pb.ResourceState.Name(target)}"
                    )
            updated, changed = merge_update(current, request.resource, paths, rules.check_resource)
            if not changed:
                return current
            stamp(updated, version + 1)
            store.put_resource(uow.tx, ids["resource"], updated, version + 1)
            payload = ev.ResourceUpdated(resource=updated, changed_fields=changed)
            uow.emit(self._rt.event("resource", "updated", updated.name, version + 1, payload))
        return updated

    def search_resources(self, request: pb.SearchResourcesRequest) -> bytes:
        v = Violations()
        check.text(v, "query", request.query, max_len=200)
        check.enum(v, "category", request.category, pb.Category.DESCRIPTOR, required=False)
        check.enum(v, "industrial_chain", request.industrial_chain, rules.CHAIN, required=False)
        check.enum(v, "order", request.order, pb.SearchOrder.DESCRIPTOR, required=False)
        region = REGION.parse(v, "region", request.region) if request.region else None
        if request.owner:
            CARRIER.parse(v, "owner", request.owner)
        rules.check_window(v, "window", request.window, required=request.free_units > 0)
        if request.free_units < 0:
            v.add("free_units", "must not be negative")
        if not 0 <= request.page_size <= rules.MAX_SEARCH_PAGE:
            v.add("page_size", f"must be between 0 and {rules.MAX_SEARCH_PAGE}")
        v.raise_if_any()
        window = None
        if request.HasField("window"):
            window = (
                rules.seconds(request.window.start_time),
                rules.seconds(request.window.end_time),
            )
        query = search.Query(
            here=self.region,
            words=search.words_of(request.query),
            category=request.category,
            region=region["region"] if region else "",
            chain=request.industrial_chain,
            owner=request.owner,
            window=window,
            free_units=request.free_units,
            relevance=request.order != pb.SEARCH_ORDER_RECENT,
        )
        size = request.page_size or rules.DEFAULT_SEARCH_PAGE
        after = self._rt.page_tokens.decode(request.page_token, query.key())
        return self._rt.read_cache.reply(
            ("SearchResources", query.key(), request.page_token, size),
            lambda: self._search_reply(query, after, size),
        )

    def _search_reply(self, query: search.Query, after: str | None, size: int) -> bytes:
        rows, total, categories, regions = search.search(self._rt.db.reader, query, after, size + 1)
        reply = pb.SearchResourcesResponse(total_size=total, categories=categories, regions=regions)
        # Concatenated protobuf messages merge: the page, then the totals and facets.
        return (
            page_of(
                pb.SearchResourcesResponse,
                "resources",
                [blob for _, blob in rows[:size]],
                self._rt.page_tokens.after(rows, size, query.key()),
            )
            + reply.SerializeToString()
        )

    # -- requests (the requester's region) --------------------------------------------------

    async def create_request(self, request: pb.CreateRequestRequest) -> pb.Request:
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
        self._authorize_for(wanted.requester)
        async with self._rt.unit_of_work() as uow:
            earlier = uow.earlier_result(request.request_id, "CreateRequest")
            if earlier:
                return self._request(uow.tx, earlier)[0]
            self._ensure_active_carrier(uow.tx, wanted.requester)
            resource, _ = self._resource(uow.tx, wanted.resource)
            if resource.state != pb.RESOURCE_STATE_PUBLISHED:
                raise FailedPrecondition(f"{resource.name} is not published")
            start = rules.seconds(wanted.window.start_time)
            end = rules.seconds(wanted.window.end_time)
            if start <= time.time():
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
            store.put_request(uow.tx, created.name.rsplit("/", 1)[-1], created, 1)
            uow.remember_result(request.request_id, "CreateRequest", created.name)
            payload = ev.RequestCreated(request=created)
            uow.emit(self._rt.event("request", "created", created.name, 1, payload))
        return created

    def get_request(self, request: pb.GetRequestRequest) -> pb.Request:
        REQUEST.require("name", request.name)
        found = self._request(self._rt.db.reader, request.name)[0]
        caller().scope(carrier=found.requester)
        return found

    def list_requests(self, request: pb.ListRequestsRequest) -> bytes:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        if request.requester:
            CARRIER.parse(v, "requester", request.requester)
        check.enum(v, "state", request.state, pb.RequestState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert parent is not None
        requester, _ = caller().scope(carrier=request.requester)
        here = parent["region"] == self.region  # requests stay in the requester's region
        return self._rt.page_tokens.page(
            pb.ListRequestsResponse,
            "requests",
            f"requests|{parent['region']}|{requester}|{request.state}",
            request.page_size,
            request.page_token,
            lambda after, limit: (
                store.list_requests(self._rt.db.reader, requester, request.state, after, limit)
                if here
                else []
            ),
        )

    async def cancel_request(self, request: pb.CancelRequestRequest) -> pb.Request:
        ids = REQUEST.require("name", request.name)
        ensure_home(SERVICE, self.region, ids["region"])
        async with self._rt.unit_of_work() as uow:
            current, version = self._request(uow.tx, request.name)
            self._authorize_for(current.requester)
            check_etag(request.etag, current.etag, "etag")
            if current.state not in CANCELLABLE:
                raise FailedPrecondition(
                    f"{current.name} is {pb.RequestState.Name(current.state)}; it cannot be "
                    "cancelled"
                )
            found = store.get_request(uow.tx, ids["request"])
            assert found is not None
            current.state = pb.REQUEST_STATE_CANCELLED
            current.capacity_held = False
            stamp(current, version + 1)
            store.put_request(uow.tx, ids["request"], current, version + 1, found[2])
            payload = ev.RequestCancelled(request=current)
            uow.emit(self._rt.event("request", "cancelled", current.name, version + 1, payload))
        return current

    # -- decisions (the owner's region) -----------------------------------------------------

    def list_incoming(self, request: pb.ListIncomingRequestsRequest) -> bytes:
        v = Violations()
        owner = CARRIER.parse(v, "parent", request.parent)
        if request.resource:
            RESOURCE.parse(v, "resource", request.resource)
        check.enum(v, "state", request.state, pb.BookingState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert owner is not None
        ensure_home(SERVICE, self.region, owner["region"])
        self._authorize_for(request.parent, partners_read=True)
        state = ""
        if request.state:
            state = pb.BookingState.Name(request.state).removeprefix("BOOKING_STATE_").lower()
        return self._rt.page_tokens.page(
            pb.ListIncomingRequestsResponse,
            "bookings",
            f"incoming|{request.parent}|{request.resource}|{state}",
            request.page_size,
            request.page_token,
            lambda after, limit: store.list_bookings(
                self._rt.db.reader, request.parent, request.resource, state, after, limit
            ),
        )

    async def approve(self, request: pb.ApproveRequestRequest) -> pb.Booking:
        return await self._decide(request.name, "approve", "")

    async def decline(self, request: pb.DeclineRequestRequest) -> pb.Booking:
        v = Violations()
        check.text(v, "reason", request.reason, required=True, max_len=500)
        v.raise_if_any()
        return await self._decide(request.name, "decline", request.reason)

    async def fulfil(self, request: pb.FulfillRequestRequest) -> pb.Booking:
        return await self._decide(request.name, "fulfil", "")

    async def _decide(self, name: str, action: str, reason: str) -> pb.Booking:
        REQUEST.require("name", name)
        async with self._rt.unit_of_work() as uow:
            booking = store.get_booking(uow.tx, name)
            if booking is None:
                raise NotFound(
                    f"{name} is unknown here; decide in the region that owns its resource, "
                    "once its request.created event has arrived"
                )
            resource, _ = self._resource(uow.tx, booking[0].resource)
            ensure_home(SERVICE, self.region, resource.name.split("/")[1])
            self._authorize_for(resource.owner)
            ledger = self._flow.ledger(uow.tx, resource, uow.emit)
            try:
                if action == "approve":
                    changed = ledger.approve(name)
                elif action == "decline":
                    changed = ledger.decline(name, reason)
                else:
                    changed = ledger.fulfil(name)
            except LedgerError as exc:
                raise FailedPrecondition(str(exc)) from None
            records = self._flow.record(uow.tx, resource, ledger, changed, uow.emit)
        return records[0]

    # -- stats ------------------------------------------------------------------------------

    def stats(self, request: pb.GetSharingStatsRequest) -> pb.SharingStats:
        if request.parent != "regions/-":
            REGION.require("parent", request.parent)
        reader = self._rt.db.reader
        carriers: dict[str, pb.CarrierSharing] = {}
        pairs: dict[tuple[str, str], pb.RegionPair] = {}

        def of(name: str) -> pb.CarrierSharing:
            return carriers.setdefault(name, pb.CarrierSharing(carrier=name))

        for row in store.shared_counts(reader):
            of(row["owner"]).resources_shared += row["n"]
        for row in store.sharing_counts(reader):
            owner, requester, state, n = row["owner"], row["requester"], row["state"], row["n"]
            if not owner or not requester:
                continue
            of(owner).requests_received += n
            of(requester).requests_made += n
            approved = state in (State.APPROVED.value, State.FULFILLED.value)
            if approved:
                of(owner).requests_approved += n
            if state == State.FULFILLED.value:
                of(owner).requests_fulfilled += n
            pair_key = (requester.split("/")[1], owner.split("/")[1])
            pair = pairs.setdefault(
                pair_key, pb.RegionPair(from_region=pair_key[0], to_region=pair_key[1])
            )
            pair.requests += n
            pair.approved += n if approved else 0
        regions: dict[str, pb.CarrierSharing] = {}
        for name, c in carriers.items():
            r = regions.setdefault(
                name.split("/")[1], pb.CarrierSharing(carrier=f"regions/{name.split('/')[1]}")
            )
            for field in (
                "resources_shared",
                "requests_received",
                "requests_approved",
                "requests_fulfilled",
                "requests_made",
            ):
                setattr(r, field, getattr(r, field) + getattr(c, field))
        return pb.SharingStats(
            carriers=[carriers[k] for k in sorted(carriers)],
            regions=[regions[k] for k in sorted(regions)],
            pairs=[pairs[k] for k in sorted(pairs)],
        )

    # -- helpers ----------------------------------------------------------------------------

    def _authorize_for(self, carrier: str, *, partners_read: bool = False) -> None:
        who = caller()
        if who.is_operator_of(self.region) or who.acts_for(carrier):
            return
        if partners_read and who.role is Role.PARTNER:
            return
        raise PermissionDenied(f"only {carrier} itself or an operator of {self.region} may do this")

    def _ensure_active_carrier(self, tx: sqlite3.Connection, carrier: str) -> None:
        active = store.carrier_active(tx, carrier)
        if active is None:
            raise FailedPrecondition(
                f"{carrier} is not in this region's carrier directory yet; register it with "
                "membership and retry once its event has arrived"
            )
        if not active:
            raise FailedPrecondition(f"{carrier} is not an active member")

    def _resource(self, conn: sqlite3.Connection, name: str) -> tuple[pb.Resource, int]:
        found = store.get_resource(conn, name.rsplit("/", 1)[-1])
        if found is None or found[0].name != name:
            raise NotFound(f"resource {name} does not exist (or its event has not arrived)")
        return found

    def _request(self, conn: sqlite3.Connection, name: str) -> tuple[pb.Request, int]:
        found = store.get_request(conn, name.rsplit("/", 1)[-1])
        if found is None or found[0].name != name:
            raise NotFound(f"request {name} does not exist")
        return found[0], found[1]
