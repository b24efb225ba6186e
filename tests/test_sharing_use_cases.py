"""Sharing's use cases on in-memory ports, two regions wired by their own event handlers: a
resource shared in Shanghai, asked for from Hangzhou, held, waitlisted, approved, cancelled,
declined and expired — the whole cross-region workflow without a database or NATS."""

from __future__ import annotations

import json
import time

import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.sharing.v1 import sharing_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.memory import MemoryStore
from yrd_alliance.kernel.names import new_id
from yrd_alliance.sharing.capacity import Capacity
from yrd_alliance.sharing.decisions import Decisions
from yrd_alliance.sharing.projection import projection
from yrd_alliance.sharing.requests import Requests
from yrd_alliance.sharing.resources import Found, Resources
from yrd_alliance.sharing.search import Query
from yrd_alliance.sharing.store import BOOKINGS, CARRIERS, RESOURCES

from tests.use_cases import PARTNER, acting_for, operator, ports, refused, verbs

DAY = 86400


class MemoryCatalogue:
    """The Catalogue port over a MemoryStore: substring words, filters, newest first."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def current(self) -> None:
        """Always current: it reads the store itself."""

    async def search(self, q: Query, after: str | None, limit: int) -> Found:
        published = RESOURCES.where(state=pb.RESOURCE_STATE_PUBLISHED)
        found = [
            r.message
            for r in self._store.rows(RESOURCES).select(published)
            if (
                r.message.visibility == pb.VISIBILITY_ALLIANCE
                or r.message.name.split("/")[1] == q.here
            )
            and all(w in f"{r.message.title}\n{r.message.description}" for w in q.words)
            and (not q.category or r.message.category == q.category)
        ]
        found.sort(key=lambda r: (r.update_time.ToNanoseconds(), r.name), reverse=True)
        rows = [
            (json.dumps([r.update_time.ToNanoseconds(), r.name]), r.SerializeToString())
            for r in found
        ]
        start = next((i + 1 for i, (key, _) in enumerate(rows) if key == after), 0)
        return rows[start : start + limit], len(rows), [], []

    def published_by_owner(self) -> list[tuple[str, int]]:
        return []

    def bookings_by_pair(self) -> list[tuple[str, str, str, int]]:
        counts: dict[tuple[str, str, str], int] = {}
        for row in self._store.rows(BOOKINGS).columns(BOOKINGS.where()):
            key = (row["owner"], row["requester"], row["state"])
            counts[key] = counts.get(key, 0) + 1
        return [(*key, n) for key, n in sorted(counts.items())]


class Region:
    def __init__(self, name: str, clock: list[float]) -> None:
        self.name = name
        self.store = MemoryStore()
        p = ports(self.store, name, "sharing")
        self.capacity = Capacity(name, p.events, clock=lambda: clock[0])
        self.resources = Resources(p, MemoryCatalogue(self.store))
        self.requests = Requests(p, clock=lambda: clock[0])
        self.decisions = Decisions(p, self.capacity)
        self.handlers = projection(self.capacity).handlers
        self.operator = operator(name)

    async def apply(self, event: Event) -> None:
        """What the region's consumer does with one event."""
        async with self.store.unit_of_work() as uow:
            self.handlers[event.type](uow, event)


class Alliance:
    """Two regions whose events reach both, in order, as the federation delivers them."""

    def __init__(self) -> None:
        self.clock = [time.time()]
        self.sh, self.hz = Region("sh", self.clock), Region("hz", self.clock)
        self._delivered = {"sh": 0, "hz": 0}

    def carrier(self, region: Region, active: bool = True) -> str:
        name = f"regions/{region.name}/carriers/{new_id()}"
        state = mpb.CARRIER_STATE_ACTIVE if active else mpb.CARRIER_STATE_SUSPENDED
        for r in (self.sh, self.hz):
            r.store.rows(CARRIERS).put(mpb.Carrier(name=name, state=state), 1)
        return name

    async def sync(self) -> None:
        moved = True
        while moved:
            moved = False
            for source in (self.sh, self.hz):
                while self._delivered[source.name] < len(source.store.events):
                    event = source.store.events[self._delivered[source.name]]
                    self._delivered[source.name] += 1
                    for region in (self.sh, self.hz):
                        await region.apply(event)
                    moved = True

    async def resource(self, owner: str, **fields: object) -> pb.Resource:
        values: dict[str, object] = {
            "owner": owner,
            "category": pb.CATEGORY_LAB_EQUIPMENT,
            "title": "检测实验室",
            "capacity": 1,
            "visibility": pb.VISIBILITY_ALLIANCE,
            "state": pb.RESOURCE_STATE_PUBLISHED,
        }
        values.update(fields)
        request = pb.CreateResourceRequest(parent="regions/sh", resource=pb.Resource(**values))  # type: ignore[arg-type]
        made = await self.sh.resources.create_resource(request, acting_for(owner))
        await self.sync()
        return made

    async def ask(self, requester: str, resource: str, units: int = 1) -> pb.Request:
        start = int(self.clock[0]) + DAY
        window = pb.TimeWindow(start_time={"seconds": start}, end_time={"seconds": start + 3600})
        request = pb.CreateRequestRequest(
            parent="regions/hz",
            request=pb.Request(
                resource=resource, requester=requester, units=units, window=window, purpose="检测"
            ),
        )
        made = await self.hz.requests.create_request(request, acting_for(requester))
        await self.sync()
        return made

    def request(self, name: str) -> pb.Request:
        return self.hz.requests.get_request(pb.GetRequestRequest(name=name), self.hz.operator)


@pytest.fixture
def alliance() -> Alliance:
    return Alliance()


async def test_a_resource_is_shared_by_its_owner_and_found_in_every_region(
    alliance: Alliance,
) -> None:
    owner = alliance.carrier(alliance.sh)
    draft = await alliance.resource(owner, state=pb.RESOURCE_STATE_DRAFT, title="路演厅")
    found = pb.SearchResourcesResponse.FromString(
        await alliance.hz.resources.search_resources(
            pb.SearchResourcesRequest(query="路演"), PARTNER
        )
    )
    assert list(found.resources) == [], "a draft is nobody's to find"
    withdraw = pb.UpdateResourceRequest(
        resource=pb.Resource(name=draft.name, state=pb.RESOURCE_STATE_WITHDRAWN),
        update_mask=FieldMask(paths=["state"]),
    )
    await refused(
        alliance.sh.store,
        alliance.sh.resources.update_resource(withdraw, acting_for(owner)),
        FailedPrecondition,
    )
    publish = pb.UpdateResourceRequest(
        resource=pb.Resource(name=draft.name, state=pb.RESOURCE_STATE_PUBLISHED),
        update_mask=FieldMask(paths=["state"]),
    )
    stranger = acting_for(alliance.carrier(alliance.sh))
    await refused(
        alliance.sh.store,
        alliance.sh.resources.update_resource(publish, stranger),
        PermissionDenied,
    )
    await alliance.sh.resources.update_resource(publish, acting_for(owner))
    await alliance.sync()
    found = pb.SearchResourcesResponse.FromString(
        await alliance.hz.resources.search_resources(
            pb.SearchResourcesRequest(query="路演"), PARTNER
        )
    )
    assert [r.name for r in found.resources] == [draft.name], "hz finds sh's copy"
    assert verbs(alliance.sh.store) == ["resource.created", "resource.updated"]
    copy = alliance.hz.resources.get_resource(pb.GetResourceRequest(name=draft.name), PARTNER)
    assert copy.state == pb.RESOURCE_STATE_PUBLISHED
    listed = pb.ListResourcesResponse.FromString(
        alliance.hz.resources.list_resources(
            pb.ListResourcesRequest(parent="regions/sh", owner=owner), PARTNER
        )
    )
    assert [r.name for r in listed.resources] == [draft.name]

    suspended = alliance.carrier(alliance.sh, active=False)
    create = pb.CreateResourceRequest(
        parent="regions/sh",
        resource=pb.Resource(
            owner=suspended,
            category=pb.CATEGORY_LAB_EQUIPMENT,
            title="x",
            visibility=pb.VISIBILITY_ALLIANCE,
        ),
    )
    await refused(
        alliance.sh.store,
        alliance.sh.resources.create_resource(create, alliance.sh.operator),
        FailedPrecondition,
    )


async def test_the_owner_region_decides_and_the_requester_region_follows(
    alliance: Alliance,
) -> None:
    owner = alliance.carrier(alliance.sh)
    lab = await alliance.resource(owner)
    first_asker, second_asker = alliance.carrier(alliance.hz), alliance.carrier(alliance.hz)
    first = await alliance.ask(first_asker, lab.name)
    second = await alliance.ask(second_asker, lab.name)
    assert alliance.request(first.name).state == pb.REQUEST_STATE_PENDING
    assert alliance.request(first.name).capacity_held
    waiting = alliance.request(second.name)
    assert (waiting.state, waiting.waitlist_position) == (pb.REQUEST_STATE_WAITLISTED, 1)

    approve = pb.ApproveRequestRequest(name=first.name)
    await refused(
        alliance.sh.store,
        alliance.sh.decisions.approve(approve, acting_for(first_asker)),
        PermissionDenied,
    )
    await refused(  # decisions are the owner region's, even on hz's copy of the booking
        alliance.hz.store,
        alliance.hz.decisions.approve(approve, alliance.hz.operator),
        FailedPrecondition,
    )
    await alliance.sh.decisions.approve(approve, acting_for(owner))
    await alliance.sync()
    assert alliance.request(first.name).state == pb.REQUEST_STATE_APPROVED

    cancel = pb.CancelRequestRequest(name=first.name)
    await alliance.hz.requests.cancel_request(cancel, acting_for(first_asker))
    await alliance.sync()
    promoted = alliance.request(second.name)
    assert (promoted.state, promoted.capacity_held) == (pb.REQUEST_STATE_PENDING, True)

    decline = pb.DeclineRequestRequest(name=second.name, reason="设备检修")
    await alliance.sh.decisions.decline(decline, acting_for(owner))
    await alliance.sync()
    declined = alliance.request(second.name)
    assert (declined.state, declined.reason) == (pb.REQUEST_STATE_DECLINED, "设备检修")

    incoming = pb.ListIncomingRequestsResponse.FromString(
        alliance.sh.decisions.list_incoming(
            pb.ListIncomingRequestsRequest(parent=owner), acting_for(owner)
        )
    )
    assert {(b.request, b.state) for b in incoming.bookings} == {
        (first.name, pb.BOOKING_STATE_RELEASED),
        (second.name, pb.BOOKING_STATE_DECLINED),
    }
    mine = pb.ListRequestsResponse.FromString(
        alliance.hz.requests.list_requests(
            pb.ListRequestsRequest(parent="regions/hz"), acting_for(second_asker)
        )
    )
    assert [r.name for r in mine.requests] == [second.name], "a carrier lists only its own"
    stats = alliance.hz.resources.stats(pb.GetSharingStatsRequest(parent="regions/-"), PARTNER)
    [pair] = stats.pairs
    assert (pair.from_region, pair.to_region, pair.requests) == ("hz", "sh", 2)


async def test_an_approved_request_is_fulfilled_once(alliance: Alliance) -> None:
    owner = alliance.carrier(alliance.sh)
    lab = await alliance.resource(owner)
    asked = await alliance.ask(alliance.carrier(alliance.hz), lab.name)
    fulfil = pb.FulfillRequestRequest(name=asked.name)
    await refused(
        alliance.sh.store,
        alliance.sh.decisions.fulfil(fulfil, acting_for(owner)),
        FailedPrecondition,
    )
    await alliance.sh.decisions.approve(
        pb.ApproveRequestRequest(name=asked.name), acting_for(owner)
    )
    booking = await alliance.sh.decisions.fulfil(fulfil, acting_for(owner))
    await alliance.sync()
    assert booking.state == pb.BOOKING_STATE_FULFILLED
    assert alliance.request(asked.name).state == pb.REQUEST_STATE_FULFILLED
    await refused(
        alliance.sh.store,
        alliance.sh.decisions.fulfil(fulfil, acting_for(owner)),
        FailedPrecondition,
    )


async def test_a_request_whose_window_has_begun_expires_and_frees_its_units(
    alliance: Alliance,
) -> None:
    owner = alliance.carrier(alliance.sh)
    lab = await alliance.resource(owner)
    asked = await alliance.ask(alliance.carrier(alliance.hz), lab.name)
    assert await alliance.sh.capacity.expire_due(alliance.sh.store) == 0, "not yet due"
    alliance.clock[0] += 2 * DAY
    assert await alliance.sh.capacity.expire_due(alliance.sh.store) == 1
    await alliance.sync()
    assert alliance.request(asked.name).state == pb.REQUEST_STATE_EXPIRED
    too_late = pb.CreateRequestRequest(
        parent="regions/hz",
        request=pb.Request(
            resource=lab.name,
            requester=asked.requester,
            units=1,
            window=asked.window,
            purpose="检测",
        ),
    )
    await refused(
        alliance.hz.store,
        alliance.hz.requests.create_request(too_late, acting_for(asked.requester)),
        FailedPrecondition,
    )


async def test_a_suspended_carrier_token_cannot_act_but_its_operator_can(
    alliance: Alliance,
) -> None:
    owner = alliance.carrier(alliance.sh)
    lab = await alliance.resource(owner)
    asked = await alliance.ask(alliance.carrier(alliance.hz), lab.name)
    for region in (alliance.sh, alliance.hz):  # the owner's suspension, as its event would
        suspended = mpb.Carrier(name=owner, state=mpb.CARRIER_STATE_SUSPENDED)
        region.store.rows(CARRIERS).apply_if_newer(suspended, 2)
    approve = pb.ApproveRequestRequest(name=asked.name)
    await refused(
        alliance.sh.store,
        alliance.sh.decisions.approve(approve, acting_for(owner)),
        PermissionDenied,
    )
    withdraw = pb.UpdateResourceRequest(
        resource=pb.Resource(name=lab.name, state=pb.RESOURCE_STATE_WITHDRAWN),
        update_mask=FieldMask(paths=["state"]),
    )
    await refused(
        alliance.sh.store,
        alliance.sh.resources.update_resource(withdraw, acting_for(owner)),
        PermissionDenied,
    )
    withdrawn = await alliance.sh.resources.update_resource(withdraw, alliance.sh.operator)
    assert withdrawn.state == pb.RESOURCE_STATE_WITHDRAWN
