"""Membership's use cases on in-memory ports: every rule, permission and event, with no
database, gRPC or NATS. A refused call is checked to have changed nothing."""

from __future__ import annotations

import pytest
from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.kernel.auth import Principal, Role
from yrd_alliance.kernel.errors import (
    AllianceError,
    EtagMismatch,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from yrd_alliance.kernel.event_types import type_of
from yrd_alliance.kernel.memory import MemoryStore
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.paging import PageTokens
from yrd_alliance.kernel.ports import EventFactory, Pages, Ports
from yrd_alliance.membership.service import Membership
from yrd_alliance.membership.store import CARRIERS

from tests.conftest import sample_carrier

OPERATOR = Principal("op", Role.OPERATOR, region="sh")
HZ_OPERATOR = Principal("op-hz", Role.OPERATOR, region="hz")
PARTNER = Principal("p", Role.PARTNER)


class World:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.membership = Membership(
            Ports(
                "sh",
                self.store,
                EventFactory("sh", "membership"),
                Pages(self.store, PageTokens(b"test")),
            )
        )

    def snapshot(self) -> tuple[object, ...]:
        return (repr(self.store.data), len(self.store.events), dict(self.store.idempotency))

    async def carrier(self, **fields: object) -> pb.Carrier:
        request = pb.CreateCarrierRequest(parent="regions/sh", carrier=sample_carrier(**fields))
        return await self.membership.create_carrier(request, OPERATOR)

    async def refused(self, call: object, error: type[AllianceError]) -> AllianceError:
        before = self.snapshot()
        with pytest.raises(error) as raised:
            await call  # type: ignore[misc]
        assert self.snapshot() == before, "a refused call changed something"
        return raised.value


def carrier_token(carrier: pb.Carrier) -> Principal:
    return Principal("c", Role.CARRIER, carrier=carrier.name)


@pytest.fixture
def world() -> World:
    return World()


async def test_an_operator_registers_a_carrier_once_per_request_id(world: World) -> None:
    request = pb.CreateCarrierRequest(
        parent="regions/sh",
        carrier=sample_carrier(),
        request_id="9a1f3c52-7f36-4a4e-9a55-0d3c1b2e4f60",
    )
    first = await world.membership.create_carrier(request, OPERATOR)
    again = await world.membership.create_carrier(request, OPERATOR)
    assert again == first
    assert first.name.startswith("regions/sh/carriers/")
    assert first.state == pb.CARRIER_STATE_ACTIVE
    [event] = world.store.events
    assert (event.type, event.resource, event.version) == (
        type_of(ev.CarrierRegistered),
        first.name,
        1,
    )
    assert ev.CarrierRegistered.FromString(event.payload).carrier == first
    reused = pb.CreateStartupRequest(
        parent=first.name,
        startup=pb.Startup(display_name="x"),
        request_id=request.request_id,
    )
    error = await world.refused(world.membership.create_startup(reused, OPERATOR), InvalidArgument)
    assert "CreateCarrier" in error.violations[0].description  # type: ignore[attr-defined]
    other_operator = Principal("op-2", Role.OPERATOR, region="sh")
    theirs = await world.membership.create_carrier(request, other_operator)
    assert theirs.name != first.name, "a request_id replays only for the caller that used it"


@pytest.mark.parametrize(
    ("who", "parent", "error"),
    [
        (PARTNER, "regions/sh", PermissionDenied),
        (HZ_OPERATOR, "regions/sh", PermissionDenied),
        (OPERATOR, "regions/hz", FailedPrecondition),
    ],
)
async def test_only_the_home_operator_registers(
    world: World, who: Principal, parent: str, error: type[AllianceError]
) -> None:
    request = pb.CreateCarrierRequest(parent=parent, carrier=sample_carrier())
    await world.refused(world.membership.create_carrier(request, who), error)


async def test_an_invalid_carrier_names_every_bad_field(world: World) -> None:
    bad = sample_carrier(display_name="", level=99, industrial_chains=[2, 2, 404])
    request = pb.CreateCarrierRequest(parent="regions/sh", carrier=bad)
    error = await world.refused(world.membership.create_carrier(request, OPERATOR), InvalidArgument)
    fields = {v.field for v in error.violations}  # type: ignore[attr-defined]
    assert {"carrier.display_name", "carrier.level", "carrier.industrial_chains"} <= fields


async def test_reads_find_by_name_and_page_with_filters(world: World) -> None:
    made = [await world.carrier(industrial_chains=[1 + i % 3]) for i in range(7)]
    got = world.membership.get_carrier(pb.GetCarrierRequest(name=made[3].name), PARTNER)
    assert got == made[3]
    missing = f"regions/sh/carriers/{new_id()}"
    with pytest.raises(NotFound):
        world.membership.get_carrier(pb.GetCarrierRequest(name=missing), PARTNER)
    with pytest.raises(NotFound):  # the right id under another region's name
        world.membership.get_carrier(
            pb.GetCarrierRequest(name=made[3].name.replace("/sh/", "/hz/")), PARTNER
        )

    names, token = [], ""
    while True:
        request = pb.ListCarriersRequest(
            parent="regions/-", industrial_chain=2, page_size=1, page_token=token
        )
        page = pb.ListCarriersResponse.FromString(world.membership.list_carriers(request, PARTNER))
        names += [c.name for c in page.carriers]
        token = page.next_page_token
        if not token:
            break
    assert names == [c.name for c in made if 2 in c.industrial_chains]
    other_filter = pb.ListCarriersRequest(parent="regions/sh", page_token=token or "x")
    with pytest.raises(InvalidArgument):
        world.membership.list_carriers(other_filter, PARTNER)


async def test_a_carrier_changes_its_own_fields_but_not_the_operators(world: World) -> None:
    carrier = await world.carrier()
    own = carrier_token(carrier)
    change = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, city="苏州", etag=carrier.etag),
        update_mask=FieldMask(paths=["city"]),
    )
    updated = await world.membership.update_carrier(change, own)
    assert (updated.city, world.store.events[-1].version) == ("苏州", 2)
    stale = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, city="无锡", etag=carrier.etag),
        update_mask=FieldMask(paths=["city"]),
    )
    await world.refused(world.membership.update_carrier(stale, own), EtagMismatch)
    promote = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, level=pb.CARRIER_LEVEL_PROVINCIAL),
        update_mask=FieldMask(paths=["level"]),
    )
    await world.refused(world.membership.update_carrier(promote, own), PermissionDenied)
    other = carrier_token(await world.carrier())
    await world.refused(world.membership.update_carrier(change, other), PermissionDenied)
    same = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, city="苏州"), update_mask=FieldMask(paths=["city"])
    )
    events = len(world.store.events)
    assert await world.membership.update_carrier(same, OPERATOR) == updated
    assert len(world.store.events) == events, "no change, no event"


async def test_suspension_and_leaving_follow_the_states(world: World) -> None:
    carrier = await world.carrier()
    own = carrier_token(carrier)
    suspend = pb.SuspendCarrierRequest(name=carrier.name, reason="dues unpaid")
    await world.refused(world.membership.suspend_carrier(suspend, own), PermissionDenied)
    await world.refused(
        world.membership.suspend_carrier(pb.SuspendCarrierRequest(name=carrier.name), OPERATOR),
        InvalidArgument,
    )
    suspended = await world.membership.suspend_carrier(suspend, OPERATOR)
    assert suspended.state == pb.CARRIER_STATE_SUSPENDED
    await world.refused(world.membership.suspend_carrier(suspend, OPERATOR), FailedPrecondition)
    startup = pb.CreateStartupRequest(parent=carrier.name, startup=pb.Startup(display_name="x"))
    error = await world.refused(world.membership.create_startup(startup, own), PermissionDenied)
    assert "no longer an active member" in error.message, "a suspended carrier's token"
    await world.refused(world.membership.create_startup(startup, OPERATOR), FailedPrecondition)
    left = await world.membership.leave_alliance(  # a suspended carrier may still leave
        pb.LeaveAllianceRequest(name=carrier.name, reason="moved"), own
    )
    assert left.state == pb.CARRIER_STATE_LEFT
    assert [e.type.rsplit(".", 1)[-1] for e in world.store.events[-2:]] == [
        "CarrierSuspended",
        "CarrierLeft",
    ]
    change = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, city="苏州"), update_mask=FieldMask(paths=["city"])
    )
    await world.refused(world.membership.update_carrier(change, OPERATOR), FailedPrecondition)
    await world.refused(world.membership.update_carrier(change, own), PermissionDenied)
    again = pb.LeaveAllianceRequest(name=carrier.name, reason="again")
    await world.refused(world.membership.leave_alliance(again, own), PermissionDenied)
    stored = world.store.rows(CARRIERS).require(carrier.name)
    assert (stored.message.state, stored.version) == (pb.CARRIER_STATE_LEFT, 3)


async def test_startups_belong_to_an_active_carrier_and_only_it_writes_them(world: World) -> None:
    carrier = await world.carrier()
    own = carrier_token(carrier)
    request = pb.CreateStartupRequest(
        parent=carrier.name, startup=pb.Startup(display_name="芯原微", legal_needs=[1, 3])
    )
    startup = await world.membership.create_startup(request, own)
    assert startup.name.startswith(carrier.name + "/startups/")
    other = carrier_token(await world.carrier())
    await world.refused(world.membership.create_startup(request, other), PermissionDenied)
    unknown = pb.CreateStartupRequest(
        parent=carrier.name.replace("/sh/", "/hz/"), startup=request.startup
    )
    await world.refused(world.membership.create_startup(unknown, OPERATOR), FailedPrecondition)

    listed = pb.ListStartupsResponse.FromString(
        world.membership.list_startups(
            pb.ListStartupsRequest(parent=carrier.name, legal_need=3), PARTNER
        )
    )
    assert [s.name for s in listed.startups] == [startup.name]
    got = world.membership.get_startup(pb.GetStartupRequest(name=startup.name), PARTNER)
    assert got == startup
    none = pb.ListStartupsResponse.FromString(
        world.membership.list_startups(
            pb.ListStartupsRequest(parent=carrier.name, legal_need=2), PARTNER
        )
    )
    assert list(none.startups) == []
    with pytest.raises(NotFound):
        world.membership.list_startups(
            pb.ListStartupsRequest(parent=f"regions/sh/carriers/{new_id()}"), PARTNER
        )

    change = pb.UpdateStartupRequest(
        startup=pb.Startup(name=startup.name, headcount=12),
        update_mask=FieldMask(paths=["headcount"]),
    )
    await world.refused(world.membership.update_startup(change, other), PermissionDenied)
    updated = await world.membership.update_startup(change, own)
    assert (updated.headcount, world.store.events[-1].version) == (12, 2)
