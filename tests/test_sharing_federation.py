"""Sharing across regions, over real gRPC and three real, leaf-linked NATS servers: a Hangzhou
carrier finds a Shanghai resource by a Chinese keyword in Hangzhou, asks for it, Shanghai's
owner approves, and Hangzhou sees APPROVED — all by events; twenty requests from three regions
race for three units."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc

from tests.conftest import Tokens, auth
from tests.helpers import eventually

DAY = 24 * 3600


def window(days_from_now: int = 1, hours: int = 4) -> pb.TimeWindow:
    start = int(time.time()) + days_from_now * DAY
    result = pb.TimeWindow()
    result.start_time.seconds = start
    result.end_time.seconds = start + hours * 3600
    return result


async def create_resource(
    stub: sharing_grpc.SharingServiceStub, region: str, owner: str, **fields: Any
) -> pb.Resource:
    values: dict[str, Any] = {
        "owner": owner,
        "category": pb.CATEGORY_LAB_EQUIPMENT,
        "title": "高端纺织面料检测实验室",
        "description": "提供纺织品色牢度、强力与成分检测，可预约工位。",
        "industrial_chains": [3],
        "capacity": 3,
        "visibility": pb.VISIBILITY_ALLIANCE,
        "terms": pb.Terms(free=True),
        "state": pb.RESOURCE_STATE_PUBLISHED,
    }
    values.update(fields)
    request = pb.CreateResourceRequest(
        parent=f"regions/{region}", resource=pb.Resource(**values), request_id=str(uuid.uuid4())
    )
    # the carrier's registration reaches sharing by event: retry until it has
    return await eventually(
        lambda: stub.CreateResource(request, metadata=auth(Tokens(region).operator())),
        lambda _: True,
        "the carrier directory",
    )


async def ask(
    stub: sharing_grpc.SharingServiceStub, requester: str, resource: str, units: int = 1
) -> pb.Request:
    region = requester.split("/")[1]
    return await stub.CreateRequest(
        pb.CreateRequestRequest(
            parent=f"regions/{region}",
            request=pb.Request(
                resource=resource,
                requester=requester,
                units=units,
                window=window(),
                purpose="样品检测",
            ),
        ),
        metadata=auth(Tokens(region).carrier(requester)),
    )


async def request_state(stub: sharing_grpc.SharingServiceStub, name: str) -> pb.Request:
    region = name.split("/")[1]
    return await stub.GetRequest(
        pb.GetRequestRequest(name=name), metadata=auth(Tokens(region).operator())
    )


async def test_a_hangzhou_carrier_finds_asks_for_and_gets_a_shanghai_lab(federation: Any) -> None:
    sharing = {r: await federation.start_sharing(r) for r in ("sh", "hz")}
    (owner,) = await federation.create_carriers("sh", 1)
    (requester,) = await federation.create_carriers("hz", 1)
    lab = await create_resource(sharing["sh"], "sh", owner)

    found = await eventually(
        lambda: sharing["hz"].SearchResources(
            pb.SearchResourcesRequest(query="检测实验室"), metadata=auth(Tokens("hz").partner())
        ),
        lambda reply: bool(reply.resources),
        "hz's search",
    )
    assert [r.name for r in found.resources] == [lab.name]
    assert [(f.key, f.count) for f in found.regions] == [("sh", 1)]
    short = await sharing["hz"].SearchResources(
        pb.SearchResourcesRequest(query="纺织 工位"), metadata=auth(Tokens("hz").partner())
    )
    assert [r.name for r in short.resources] == [lab.name], "two-character words match too"

    request = await eventually(
        lambda: ask(sharing["hz"], requester, lab.name), lambda _: True, "hz knows the carrier"
    )
    assert request.name.startswith("regions/hz/requests/")
    held = await eventually(
        lambda: request_state(sharing["hz"], request.name),
        lambda r: r.capacity_held,
        "sh holds capacity",
    )
    assert held.state == pb.REQUEST_STATE_PENDING
    approved = await sharing["sh"].ApproveRequest(
        pb.ApproveRequestRequest(name=request.name),
        metadata=auth(Tokens("sh").carrier(owner)),
    )
    assert approved.state == pb.BOOKING_STATE_APPROVED
    seen = await eventually(
        lambda: request_state(sharing["hz"], request.name),
        lambda r: r.state == pb.REQUEST_STATE_APPROVED,
        "hz sees the approval",
    )
    assert seen.capacity_held
    stats = await eventually(
        lambda: sharing["hz"].GetSharingStats(
            pb.GetSharingStatsRequest(parent="regions/-"), metadata=auth(Tokens("hz").partner())
        ),
        lambda s: any(p.approved for p in s.pairs),
        "hz's stats",
    )
    assert [(p.from_region, p.to_region, p.requests, p.approved) for p in stats.pairs] == [
        ("hz", "sh", 1, 1)
    ]


async def wait_for_carrier(stub: sharing_grpc.SharingServiceStub, carrier: str) -> None:
    """Until the region's sharing knows the carrier: asking for a resource that does not exist
    then fails with NOT_FOUND instead of FAILED_PRECONDITION, and changes nothing."""
    region = carrier.split("/")[1]
    probe = pb.CreateRequestRequest(
        parent=f"regions/{region}",
        request=pb.Request(
            resource="regions/sh/resources/01J00000000000000000000000",
            requester=carrier,
            units=1,
            window=window(),
            purpose="probe",
        ),
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            await stub.CreateRequest(probe, metadata=auth(Tokens(region).operator()))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return
            assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error
        assert time.monotonic() < deadline, f"{region} never learnt of {carrier}"
        await asyncio.sleep(0.05)


async def test_twenty_requests_from_three_regions_for_three_units(federation: Any) -> None:
    regions = ("sh", "hz", "zjg")
    sharing = {r: await federation.start_sharing(r) for r in regions}
    (owner,) = await federation.create_carriers("sh", 1)
    requesters = {r: await federation.create_carriers(r, 7) for r in regions}
    lab = await create_resource(sharing["sh"], "sh", owner, capacity=3)
    for region in regions:
        await eventually(
            lambda region=region: sharing[region].GetResource(
                pb.GetResourceRequest(name=lab.name), metadata=auth(Tokens(region).partner())
            ),
            lambda _: True,
            f"{region} has the resource",
        )
        for carrier in requesters[region]:
            await wait_for_carrier(sharing[region], carrier)
    askers = [c for r in regions for c in requesters[r]][:20]
    made = await asyncio.gather(*(ask(sharing[c.split("/")[1]], c, lab.name) for c in askers))

    def decided(r: pb.Request) -> bool:
        return r.capacity_held or r.state == pb.REQUEST_STATE_WAITLISTED

    states = [
        await eventually(
            lambda m=m: request_state(sharing[m.name.split("/")[1]], m.name), decided, m.name
        )
        for m in made
    ]
    held = [r.name for r in states if r.capacity_held]
    assert len(held) == 3, f"{len(held)} held"
    assert Counter(r.state for r in states) == {
        pb.REQUEST_STATE_PENDING: 3,
        pb.REQUEST_STATE_WAITLISTED: 17,
    }
    as_owner = auth(Tokens("sh").carrier(owner))
    for name in held:
        await sharing["sh"].ApproveRequest(pb.ApproveRequestRequest(name=name), metadata=as_owner)
    await expect_refused(sharing["sh"], next(r.name for r in states if not r.capacity_held), owner)
    incoming = await sharing["sh"].ListIncomingRequests(
        pb.ListIncomingRequestsRequest(parent=owner, page_size=100), metadata=as_owner
    )
    by_state = Counter(b.state for b in incoming.bookings)
    assert by_state == {pb.BOOKING_STATE_APPROVED: 3, pb.BOOKING_STATE_WAITLISTED: 17}
    first_waiting = next(b.request for b in incoming.bookings if b.waitlist_position == 1)

    cancelled = held[0]
    region = cancelled.split("/")[1]
    await sharing[region].CancelRequest(
        pb.CancelRequestRequest(name=cancelled), metadata=auth(Tokens(region).operator())
    )
    promoted = await eventually(
        lambda: request_state(sharing[first_waiting.split("/")[1]], first_waiting),
        lambda r: r.capacity_held,
        "the first waitlisted request is promoted",
    )
    assert promoted.state == pb.REQUEST_STATE_PENDING
    after = await eventually(
        lambda: sharing["sh"].ListIncomingRequests(
            pb.ListIncomingRequestsRequest(parent=owner, page_size=100), metadata=as_owner
        ),
        lambda reply: Counter(b.state for b in reply.bookings)[pb.BOOKING_STATE_RELEASED] == 1,
        "sh releases the cancelled units",
    )
    assert Counter(b.state for b in after.bookings) == {
        pb.BOOKING_STATE_APPROVED: 2,
        pb.BOOKING_STATE_HELD: 1,
        pb.BOOKING_STATE_RELEASED: 1,
        pb.BOOKING_STATE_WAITLISTED: 16,
    }


async def expect_refused(stub: sharing_grpc.SharingServiceStub, name: str, owner: str) -> None:
    """Approving a waitlisted request is refused: no unit is free for it."""
    try:
        await stub.ApproveRequest(
            pb.ApproveRequestRequest(name=name), metadata=auth(Tokens("sh").carrier(owner))
        )
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "waitlisted" in (error.details() or "")
        return
    raise AssertionError("a waitlisted request was approved")
