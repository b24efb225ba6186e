"""Resources use cases: an owner shares its resources; everyone searches the whole alliance's,
from this region's copy. Stats count what was shared and asked for."""

from __future__ import annotations

from typing import Protocol

from alliance.sharing.v1 import events_pb2 as ev
from alliance.sharing.v1 import sharing_pb2 as pb

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Principal
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied, Violations
from yrd_alliance.kernel.members import CARRIER
from yrd_alliance.kernel.names import REGION, new_id
from yrd_alliance.kernel.paging import page_of
from yrd_alliance.kernel.ports import Ports, UnitOfWork
from yrd_alliance.kernel.updates import check_etag, mask_paths
from yrd_alliance.kernel.use_cases import UseCases
from yrd_alliance.sharing import rules, search
from yrd_alliance.sharing.access import (
    authorize_home_carrier,
    authorize_write,
    ensure_active_carrier,
    listing_filters,
)
from yrd_alliance.sharing.ledger import State
from yrd_alliance.sharing.rules import RESOURCE, SERVICE
from yrd_alliance.sharing.store import RESOURCES

TRANSITIONS = {
    pb.RESOURCE_STATE_DRAFT: {pb.RESOURCE_STATE_PUBLISHED},
    pb.RESOURCE_STATE_PUBLISHED: {pb.RESOURCE_STATE_WITHDRAWN},
    pb.RESOURCE_STATE_WITHDRAWN: {pb.RESOURCE_STATE_PUBLISHED},
}
Found = tuple[list[tuple[str, bytes]], int, list[pb.Facet], list[pb.Facet]]


class Catalogue(Protocol):
    """Search over the resources this region knows, and the counts behind the stats."""

    async def current(self) -> None:
        """Returns when search sees every change committed before the call."""
        ...

    async def search(self, q: search.Query, after: str | None, limit: int) -> Found:
        """(page rows as (token key, bytes), total, category facets, region facets)."""
        ...

    def published_by_owner(self) -> list[tuple[str, int]]: ...

    def bookings_by_pair(self) -> list[tuple[str, str, str, int]]:
        """(owner, requester, ledger state, count)."""
        ...


class Resources(UseCases):
    service = SERVICE

    def __init__(self, ports: Ports, catalogue: Catalogue) -> None:
        super().__init__(ports)
        self._catalogue = catalogue

    async def create_resource(
        self, request: pb.CreateResourceRequest, who: Principal
    ) -> pb.Resource:
        resource = pb.Resource()
        resource.CopyFrom(request.resource)
        resource.state = resource.state or pb.RESOURCE_STATE_DRAFT  # type: ignore[assignment]

        def check_resource(v: Violations) -> None:
            rules.check_resource(v, resource)
            if resource.state == pb.RESOURCE_STATE_WITHDRAWN:
                v.add("resource.state", "must be DRAFT or PUBLISHED on create")

        self.check_create(request.parent, request.request_id, check_resource)
        authorize_home_carrier(
            who, self.region, resource.owner, "its resources live there", self.storage
        )

        def share(uow: UnitOfWork) -> pb.Resource:
            ensure_active_carrier(uow, resource.owner)
            resource.name = RESOURCE.format(region=self.region, resource=new_id())
            return resource

        created = ("created", lambda r: ev.ResourceCreated(resource=rules.resource_in_events(r)))
        return await self.create(
            who, request.request_id, "CreateResource", RESOURCES, share, created
        )

    def get_resource(self, request: pb.GetResourceRequest, who: Principal) -> pb.Resource:
        resource = self.get(RESOURCES, RESOURCE, request.name)
        if not rules.may_read_resource(resource, who):
            raise PermissionDenied(
                f"{resource.name} is not published to the alliance; only its owner and "
                f"{resource.name.split('/')[1]}'s operators (and, once published, its carriers) "
                "read it"
            )
        return resource

    def list_resources(self, request: pb.ListResourcesRequest, who: Principal) -> bytes:
        v = Violations()
        parent = REGION.parse(v, "parent", request.parent)
        CARRIER.parse_if_given(v, "owner", request.owner)
        check.enum(v, "state", request.state, pb.ResourceState.DESCRIPTOR, required=False)
        v.raise_if_any()
        assert parent is not None
        state, visibility = listing_filters(who, parent["region"], request.owner, request.state)
        query = RESOURCES.where(
            region=parent["region"], owner=request.owner, state=state, visibility=visibility
        )
        return self.pages.of(pb.ListResourcesResponse, "resources", RESOURCES, query, request)

    async def update_resource(
        self, request: pb.UpdateResourceRequest, who: Principal
    ) -> pb.Resource:
        v = Violations()
        ids = RESOURCE.parse(v, "resource.name", request.resource.name)
        paths = mask_paths(v, request.update_mask.paths, rules.RESOURCE_UPDATABLE)
        v.raise_if_any()
        assert ids is not None
        self.ensure_home(ids["region"])
        async with self.storage.unit_of_work() as uow:
            found = uow.rows(RESOURCES).require(request.resource.name)
            current = found.message
            authorize_write(who, self.region, current.owner, uow)
            check_etag(request.resource.etag, current.etag, "resource.etag")
            target = request.resource.state
            if "state" in paths and target != current.state:
                if target not in TRANSITIONS.get(current.state, set()):
                    raise FailedPrecondition(
                        f"a {pb.ResourceState.Name(current.state)} resource cannot become "
                        f"{pb.ResourceState.Name(target)}"
                    )
            return self.update(
                uow,
                RESOURCES,
                found,
                request.resource,
                paths,
                rules.check_resource,
                lambda x, fields: ev.ResourceUpdated(
                    resource=rules.resource_in_events(x),
                    changed_fields=fields if rules.is_public(x) else [],
                ),
            )

    async def search_resources(self, request: pb.SearchResourcesRequest, who: Principal) -> bytes:
        v = Violations()
        check.text(v, "query", request.query, max_len=200)
        check.enum(v, "category", request.category, pb.Category.DESCRIPTOR, required=False)
        check.enum(v, "industrial_chain", request.industrial_chain, rules.CHAIN, required=False)
        check.enum(v, "order", request.order, pb.SearchOrder.DESCRIPTOR, required=False)
        region = REGION.parse(v, "region", request.region) if request.region else None
        CARRIER.parse_if_given(v, "owner", request.owner)
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
            here=self.region if who.is_member_of(self.region) else "",
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
        query_key = query.key()
        after = self.pages.tokens.decode(request.page_token, query_key)
        key = ("SearchResources", query_key, request.page_token, size)
        # A reply kept at the database's current version is current: the index is not asked.
        cached, version = self.pages.cache.lookup(key)
        if cached is not None:
            return cached
        await self._catalogue.current()
        rows, total, categories, regions = await self._catalogue.search(query, after, size + 1)
        reply = pb.SearchResourcesResponse(total_size=total, categories=categories, regions=regions)
        # Concatenated protobuf messages merge: the page, then the totals and facets.
        serialized = (
            page_of(
                pb.SearchResourcesResponse,
                "resources",
                [blob for _, blob in rows[:size]],
                self.pages.tokens.after(rows, size, query_key),
            )
            + reply.SerializeToString()
        )
        self.pages.cache.keep(key, serialized, version)
        return serialized

    def stats(self, request: pb.GetSharingStatsRequest, who: Principal) -> pb.SharingStats:
        if request.parent != "regions/-":
            REGION.require("parent", request.parent)
        carriers: dict[str, pb.CarrierSharing] = {}
        pairs: dict[tuple[str, str], pb.RegionPair] = {}

        def of(name: str) -> pb.CarrierSharing:
            return carriers.setdefault(name, pb.CarrierSharing(carrier=name))

        for owner, n in self._catalogue.published_by_owner():
            of(owner).resources_shared += n
        for owner, requester, state, n in self._catalogue.bookings_by_pair():
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
