"""Sharing in one region over real gRPC and NATS: resources, search, the request workflow
(which passes through NATS even within a region), validation and authorisation."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc

from tests.conftest import (
    Location,
    Membership,
    SharingRegion,
    auth,
    beside,
    read_events,
    read_rows,
)
from tests.helpers import eventually, expect_error, expect_invalid
from tests.test_sharing_federation import (
    create_resource,
    request_state,
    wait_for_carrier,
    window,
)

TITLES = [
    ("张江生物医药公共实验平台", pb.CATEGORY_LAB_EQUIPMENT, 2),
    ("路演厅（200座）", pb.CATEGORY_SPACE_VENUE, 0),
    ("创业导师一对一辅导", pb.CATEGORY_EXPERT_MENTOR, 0),
    ("天使投资对接会", pb.CATEGORY_FINANCE_INVESTMENT, 0),
    ("高新技术企业认定申报辅导", pb.CATEGORY_POLICY_GOVERNMENT, 0),
    ("集成电路设计人才实训营", pb.CATEGORY_TALENT_TRAINING, 30),
]


async def catalogue(region: SharingRegion) -> tuple[str, list[pb.Resource]]:
    owner = (await region.members.create_carrier()).name
    resources = [
        await create_resource(
            region.stub, region.region, owner, title=t, description="", category=c, capacity=n
        )
        for t, c, n in TITLES
    ]
    return owner, resources


async def test_search_filters_counts_facets_and_pages_without_repeats(
    sharing: SharingRegion,
) -> None:
    owner, resources = await catalogue(sharing)
    partner = auth(sharing.tokens.partner())
    everything = await sharing.stub.SearchResources(pb.SearchResourcesRequest(), metadata=partner)
    assert everything.total_size == 6
    assert {(f.key, f.count) for f in everything.categories} == {
        (pb.Category.Name(c), 1) for _, c, _ in TITLES
    }
    for text, expected in [("实验平台", 0), ("路演", 1), ("辅导", 2), ("集成电路设计", 5)]:
        reply = await sharing.stub.SearchResources(
            pb.SearchResourcesRequest(query=text), metadata=partner
        )
        names = {r.name for r in reply.resources}
        assert resources[expected].name in names, text
    two = await sharing.stub.SearchResources(
        pb.SearchResourcesRequest(query="辅导"), metadata=partner
    )
    assert two.total_size == 2
    seen, token = [], ""
    while True:
        page = await sharing.stub.SearchResources(
            pb.SearchResourcesRequest(page_size=4, page_token=token, order=pb.SEARCH_ORDER_RECENT),
            metadata=partner,
        )
        seen += [r.name for r in page.resources]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(r.name for r in resources) and len(seen) == 6
    assert seen == [r.name for r in reversed(resources)], "most recent first"
    lab = await sharing.stub.SearchResources(
        pb.SearchResourcesRequest(category=pb.CATEGORY_LAB_EQUIPMENT, owner=owner),
        metadata=partner,
    )
    assert [r.name for r in lab.resources] == [resources[0].name]


async def test_a_request_in_one_region_is_held_approved_cancelled_and_counted(
    sharing: SharingRegion,
) -> None:
    owner, resources = await catalogue(sharing)
    requester = (await sharing.members.create_carrier(display_name="漕河泾科技创业中心")).name
    await wait_for_carrier(sharing.stub, requester)
    lab = resources[0]  # 2 units
    as_requester = auth(sharing.tokens.carrier(requester))

    def asking(units: int) -> pb.CreateRequestRequest:
        return pb.CreateRequestRequest(
            parent=f"regions/{sharing.region}",
            request=pb.Request(
                resource=lab.name, requester=requester, units=units, window=window(), purpose="测序"
            ),
        )

    await expect_error(
        sharing.stub.CreateRequest(asking(3), metadata=as_requester),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    made = await sharing.stub.CreateRequest(asking(2), metadata=as_requester)
    assert made.state == pb.REQUEST_STATE_PENDING and not made.capacity_held
    await eventually(
        lambda: request_state(sharing.stub, made.name), lambda r: r.capacity_held, "held"
    )
    free = await sharing.stub.SearchResources(
        pb.SearchResourcesRequest(window=made.window, free_units=1),
        metadata=auth(sharing.tokens.partner()),
    )
    assert lab.name not in {r.name for r in free.resources}, "both units are held"
    await expect_error(  # the requester cannot approve its own request
        sharing.stub.ApproveRequest(
            pb.ApproveRequestRequest(name=made.name), metadata=as_requester
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await sharing.stub.ApproveRequest(
        pb.ApproveRequestRequest(name=made.name), metadata=auth(sharing.tokens.carrier(owner))
    )
    await eventually(
        lambda: request_state(sharing.stub, made.name),
        lambda r: r.state == pb.REQUEST_STATE_APPROVED,
        "approved",
    )
    cancelled = await sharing.stub.CancelRequest(
        pb.CancelRequestRequest(name=made.name), metadata=as_requester
    )
    assert cancelled.state == pb.REQUEST_STATE_CANCELLED
    await expect_error(
        sharing.stub.CancelRequest(pb.CancelRequestRequest(name=made.name), metadata=as_requester),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    free = await eventually(
        lambda: sharing.stub.SearchResources(
            pb.SearchResourcesRequest(window=made.window, free_units=2),
            metadata=auth(sharing.tokens.partner()),
        ),
        lambda reply: lab.name in {r.name for r in reply.resources},
        "the units are free again",
    )
    events = await read_events(sharing.members.nats_url, sharing.region, expected=13)
    kinds = [e.subject.split(".", 2)[2] for e in events if e.source.endswith("/sharing")]
    assert kinds.count("sharing.resource.created") == 6
    assert [k for k in kinds if "resource" not in k] == [
        "sharing.request.created",
        "sharing.booking.held",
        "sharing.booking.approved",
        "sharing.request.cancelled",
        "sharing.booking.released",
    ]
    stats = await sharing.stub.GetSharingStats(
        pb.GetSharingStatsRequest(parent="regions/-"), metadata=auth(sharing.tokens.partner())
    )
    counts = {c.carrier: c for c in stats.carriers}
    assert counts[owner].resources_shared == 6 and counts[owner].requests_received == 1
    assert counts[requester].requests_made == 1
    assert free.total_size >= 1


async def test_bad_input_names_the_fields_and_changes_nothing(sharing: SharingRegion) -> None:
    parent = f"regions/{sharing.region}"
    await expect_invalid(
        sharing.stub.CreateResource(
            pb.CreateResourceRequest(parent=parent, resource=pb.Resource(capacity=-1)),
            metadata=sharing.op,
        ),
        "resource.owner",
        "resource.category",
        "resource.title",
        "resource.capacity",
        "resource.visibility",
    )
    bad_window = pb.TimeWindow()
    bad_window.start_time.seconds = 2_000_000_000
    bad_window.end_time.seconds = 1_000_000_000
    await expect_invalid(
        sharing.stub.CreateRequest(
            pb.CreateRequestRequest(
                parent=parent, request=pb.Request(resource="x", units=0, window=bad_window)
            ),
            metadata=sharing.op,
        ),
        "request.resource",
        "request.requester",
        "request.units",
        "request.window.end_time",
        "request.purpose",
    )
    await expect_invalid(
        sharing.stub.SearchResources(
            pb.SearchResourcesRequest(free_units=2, page_size=500, region="nowhere!"),
            metadata=sharing.op,
        ),
        "window",
        "page_size",
        "region",
    )
    await expect_invalid(
        sharing.stub.DeclineRequest(
            pb.DeclineRequestRequest(name=f"{parent}/requests/01J00000000000000000000000"),
            metadata=sharing.op,
        ),
        "reason",
    )
    for table in ("resources", "requests", "bookings", "outbox"):
        assert read_rows(sharing.database, f"SELECT count(*) FROM {table}")[0][0] == 0, table


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("owner", grpc.StatusCode.OK),
        ("operator", grpc.StatusCode.OK),
        ("other-carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("partner", grpc.StatusCode.PERMISSION_DENIED),
        ("lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("other-operator", grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_only_the_owner_or_its_operator_changes_a_resource(
    sharing: SharingRegion, who: str, code: grpc.StatusCode
) -> None:
    owner = (await sharing.members.create_carrier()).name
    resource = await create_resource(sharing.stub, sharing.region, owner)
    metadata: Any = {
        "owner": auth(sharing.tokens.carrier(owner)),
        "operator": sharing.op,
        "other-carrier": auth(
            sharing.tokens.carrier(f"regions/{sharing.region}/carriers/01J00000000000000000000000")
        ),
        "partner": auth(sharing.tokens.partner()),
        "lawyer": auth(sharing.tokens.lawyer()),
        "other-operator": auth(sharing.tokens.operator("elsewhere")),
    }[who]
    call = sharing.stub.UpdateResource(
        pb.UpdateResourceRequest(
            resource=pb.Resource(name=resource.name, state=pb.RESOURCE_STATE_WITHDRAWN),
            update_mask={"paths": ["state"]},
        ),
        metadata=metadata,
    )
    if code == grpc.StatusCode.OK:
        assert (await call).state == pb.RESOURCE_STATE_WITHDRAWN
    else:
        await expect_error(call, code)


async def test_a_withdrawn_resource_leaves_search_and_cannot_go_back_to_draft(
    sharing: SharingRegion,
) -> None:
    owner = (await sharing.members.create_carrier()).name
    resource = await create_resource(sharing.stub, sharing.region, owner)

    async def update(state: int) -> Any:
        return await sharing.stub.UpdateResource(
            pb.UpdateResourceRequest(
                resource=pb.Resource(name=resource.name, state=state),
                update_mask={"paths": ["state"]},
            ),
            metadata=sharing.op,
        )

    for _ in range(2):  # the second reply may come from the search cache
        reply = await sharing.stub.SearchResources(pb.SearchResourcesRequest(), metadata=sharing.op)
        assert [r.name for r in reply.resources] == [resource.name]
    await update(pb.RESOURCE_STATE_WITHDRAWN)
    reply = await sharing.stub.SearchResources(pb.SearchResourcesRequest(), metadata=sharing.op)
    assert not reply.resources, "a cached reply outlived the change"
    await expect_error(update(pb.RESOURCE_STATE_DRAFT), grpc.StatusCode.FAILED_PRECONDITION)


@pytest.mark.parametrize(
    ("method", "role", "code"),
    [
        ("CreateResource", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateResource", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateResource", "other-carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateResource", "other-operator", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateRequest", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateRequest", "other-carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("ApproveRequest", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("ApproveRequest", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("ListRequests", "other-carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("ListIncomingRequests", "other-carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("ListIncomingRequests", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("ListRequests", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("ListRequests", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("SearchResources", "none", grpc.StatusCode.UNAUTHENTICATED),
        ("SearchResources", "lawyer", grpc.StatusCode.OK),
        ("GetSharingStats", "partner", grpc.StatusCode.OK),
        ("GetSharingStats", "none", grpc.StatusCode.UNAUTHENTICATED),
        ("ListResources", "partner", grpc.StatusCode.OK),
        ("UpdateResource", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("CancelRequest", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("CancelRequest", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("DeclineRequest", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("FulfillRequest", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_authorisation(
    sharing: SharingRegion, method: str, role: str, code: grpc.StatusCode
) -> None:
    parent = f"regions/{sharing.region}"
    owner = f"{parent}/carriers/01JAAAAAAAAAAAAAAAAAAAAAAA"
    other = f"{parent}/carriers/01JBBBBBBBBBBBBBBBBBBBBBBB"
    tokens = sharing.tokens
    metadata: Any = {
        "partner": auth(tokens.partner()),
        "lawyer": auth(tokens.lawyer()),
        "other-carrier": auth(tokens.carrier(other)),
        "other-operator": auth(tokens.operator("elsewhere")),
        "none": (),
    }[role]
    request = {
        "CreateResource": pb.CreateResourceRequest(
            parent=parent,
            resource=pb.Resource(
                owner=owner,
                category=1,
                title="实验室",
                visibility=pb.VISIBILITY_ALLIANCE,
            ),
        ),
        "CreateRequest": pb.CreateRequestRequest(
            parent=parent,
            request=pb.Request(
                resource=f"{parent}/resources/01JCCCCCCCCCCCCCCCCCCCCCCC",
                requester=owner,
                units=1,
                window=window(),
                purpose="检测",
            ),
        ),
        "ApproveRequest": pb.ApproveRequestRequest(
            name=f"{parent}/requests/01JDDDDDDDDDDDDDDDDDDDDDDD"
        ),
        "ListRequests": pb.ListRequestsRequest(parent=parent, requester=owner),
        "ListIncomingRequests": pb.ListIncomingRequestsRequest(parent=owner),
        "SearchResources": pb.SearchResourcesRequest(query="实验室"),
        "GetSharingStats": pb.GetSharingStatsRequest(parent="regions/-"),
        "ListResources": pb.ListResourcesRequest(parent=parent),
        "UpdateResource": pb.UpdateResourceRequest(
            resource=pb.Resource(name=f"{parent}/resources/01JCCCCCCCCCCCCCCCCCCCCCCC"),
            update_mask={"paths": ["title"]},
        ),
        "CancelRequest": pb.CancelRequestRequest(
            name=f"{parent}/requests/01JDDDDDDDDDDDDDDDDDDDDDDD"
        ),
        "DeclineRequest": pb.DeclineRequestRequest(
            name=f"{parent}/requests/01JDDDDDDDDDDDDDDDDDDDDDDD", reason="已满"
        ),
        "FulfillRequest": pb.FulfillRequestRequest(
            name=f"{parent}/requests/01JDDDDDDDDDDDDDDDDDDDDDDD"
        ),
    }[method]
    call = getattr(sharing.stub, method)(request, metadata=metadata)
    if code == grpc.StatusCode.OK:
        await call
    else:
        await expect_error(call, code)


async def test_requests_whose_window_begins_undecided_expire(
    membership: Membership, databases: Callable[[str], Location]
) -> None:
    from yrd_alliance.sharing.app import DEFINITION, SharingSettings

    async with beside(
        membership,
        databases("sharing"),
        DEFINITION,
        SharingSettings,
        sharing_grpc.SharingServiceStub,
        expiry_interval_s=0.2,
    ) as region:
        stub = region.stub
        owner = (await membership.create_carrier()).name
        requester = (await membership.create_carrier()).name
        lab = await create_resource(stub, membership.region, owner, capacity=1)
        await wait_for_carrier(stub, requester)
        soon = pb.TimeWindow()
        soon.start_time.seconds = int(time.time()) + 3
        soon.end_time.seconds = soon.start_time.seconds + 3600
        made = [
            await stub.CreateRequest(
                pb.CreateRequestRequest(
                    parent=f"regions/{membership.region}",
                    request=pb.Request(
                        resource=lab.name, requester=requester, units=1, window=soon, purpose="x"
                    ),
                ),
                metadata=membership.op,
            )
            for _ in range(2)
        ]
        for request in made:
            expired = await eventually(
                lambda r=request: request_state(stub, r.name),
                lambda r: r.state == pb.REQUEST_STATE_EXPIRED,
                "expired",
            )
            assert not expired.capacity_held and "window began" in expired.reason
        late = pb.TimeWindow()
        late.start_time.seconds = int(time.time()) - 60
        late.end_time.seconds = late.start_time.seconds + 3600
        await expect_error(
            stub.CreateRequest(
                pb.CreateRequestRequest(
                    parent=f"regions/{membership.region}",
                    request=pb.Request(
                        resource=lab.name, requester=requester, units=1, window=late, purpose="x"
                    ),
                ),
                metadata=membership.op,
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
