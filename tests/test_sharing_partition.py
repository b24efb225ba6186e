"""A cut sh–hz link: both regions keep searching and writing; a request Hangzhou makes for a
Shanghai resource during the cut waits, then completes after the heal, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alliance.sharing.v1 import sharing_pb2 as pb

from tests.conftest import Tokens, auth
from tests.federation import Federation
from tests.helpers import eventually
from tests.test_sharing_federation import (
    ask,
    create_resource,
    request_state,
    wait_for_carrier,
)

pytestmark = pytest.mark.slow


async def test_requests_made_during_a_cut_complete_after_the_heal_once(tmp_path: Path) -> None:
    federation = await Federation.start(["sh", "hz", "zjg"], tmp_path, proxy_link=("hz", "sh"))
    assert federation.proxy is not None
    try:
        sharing = {r: await federation.start_sharing(r) for r in ("sh", "hz")}
        (owner,) = await federation.create_carriers("sh", 1)
        (requester,) = await federation.create_carriers("hz", 1)
        lab = await create_resource(sharing["sh"], "sh", owner, capacity=2)
        await wait_for_carrier(sharing["hz"], requester)
        await eventually(
            lambda: sharing["hz"].GetResource(
                pb.GetResourceRequest(name=lab.name), metadata=auth(Tokens("hz").partner())
            ),
            lambda _: True,
            "hz has the lab",
        )

        federation.proxy.cut()
        await asyncio.sleep(1)
        found = await sharing["hz"].SearchResources(
            pb.SearchResourcesRequest(query="检测实验室"), metadata=auth(Tokens("hz").partner())
        )
        assert [r.name for r in found.resources] == [lab.name], "hz searches its copy"
        during = await ask(sharing["hz"], requester, lab.name)
        venue = await create_resource(
            sharing["sh"], "sh", owner, title="路演厅", category=pb.CATEGORY_SPACE_VENUE
        )
        await asyncio.sleep(3)
        still = await request_state(sharing["hz"], during.name)
        assert still.state == pb.REQUEST_STATE_PENDING and not still.capacity_held

        federation.proxy.heal()
        await eventually(
            lambda: request_state(sharing["hz"], during.name),
            lambda r: r.capacity_held,
            "sh holds units after the heal",
        )
        await sharing["sh"].ApproveRequest(
            pb.ApproveRequestRequest(name=during.name), metadata=auth(Tokens("sh").carrier(owner))
        )
        await eventually(
            lambda: request_state(sharing["hz"], during.name),
            lambda r: r.state == pb.REQUEST_STATE_APPROVED,
            "hz sees the approval",
        )
        await eventually(
            lambda: sharing["hz"].GetResource(
                pb.GetResourceRequest(name=venue.name), metadata=auth(Tokens("hz").partner())
            ),
            lambda _: True,
            "hz gets what sh created during the cut",
        )
        incoming = await sharing["sh"].ListIncomingRequests(
            pb.ListIncomingRequestsRequest(parent=owner),
            metadata=auth(Tokens("sh").carrier(owner)),
        )
        assert [(b.request, b.state) for b in incoming.bookings] == [
            (during.name, pb.BOOKING_STATE_APPROVED)
        ], "applied once"
        mine = await sharing["hz"].ListRequests(
            pb.ListRequestsRequest(parent="regions/hz"), metadata=auth(Tokens("hz").operator())
        )
        assert [r.name for r in mine.requests] == [during.name]
    finally:
        await federation.stop()
