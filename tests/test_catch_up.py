"""A region away for longer than the streams keep events rebuilds its copy of another region's
carriers, startups' needs, lawyers and resources from that region's snapshots, then follows the
live events again — with real nats-servers whose streams keep events for two seconds."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.operations.v1 import operations_pb2 as ops
from alliance.operations.v1 import operations_pb2_grpc as ops_grpc
from alliance.pairing.v1 import pairing_pb2 as ppb
from alliance.sharing.v1 import sharing_pb2 as spb
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.deployment.nats_auth import SERVICE_USER
from yrd_alliance.kernel.streams import events_stream_name

from tests.conftest import Tokens, auth
from tests.federation import Federation
from tests.helpers import eventually
from tests.test_pairing_api import lawyer
from tests.test_sharing_federation import create_resource

pytestmark = pytest.mark.slow
RETENTION_S = 2.0


async def _stored(federation: Federation, region: str) -> int:
    nc = await federation.connect(region, SERVICE_USER)
    try:
        info = await nc.jetstream().stream_info(events_stream_name(region))
        return int(info.state.messages)
    finally:
        await nc.close()


def _listed(items: Any) -> list[tuple[str, str]]:
    return sorted((item.name, item.etag) for item in items)


async def test_a_region_back_after_the_retention_rebuilds_from_snapshots(tmp_path: Path) -> None:
    federation = await Federation.start(
        ["sh", "zjg"], tmp_path, events_retention_hours=RETENTION_S / 3600
    )
    try:
        sh_pairing = await federation.start_pairing("sh")
        sh_sharing = await federation.start_sharing("sh")
        zjg = federation.regions["zjg"]
        for host, channel in [*zjg.extra, (zjg.host, zjg.channel)]:
            await channel.close()  # type: ignore[union-attr]
            await host.stop()  # type: ignore[union-attr]
        zjg.extra.clear()
        zjg.nats.stop()  # zjg is away from here on

        md = auth(Tokens("sh").operator())
        sh = federation.regions["sh"]
        carriers = await federation.create_carriers("sh", 3)
        await sh.stub.CreateStartup(
            mpb.CreateStartupRequest(
                parent=carriers[0], startup=mpb.Startup(display_name="微纳科技", legal_needs=[2])
            ),
            metadata=md,
        )
        moved = await sh.stub.UpdateCarrier(
            mpb.UpdateCarrierRequest(
                carrier=mpb.Carrier(name=carriers[1], city="苏州"),
                update_mask=FieldMask(paths=["city"]),
            ),
            metadata=md,
        )
        for i in range(2):
            await sh_pairing.CreateLawyer(
                ppb.CreateLawyerRequest(
                    parent="regions/sh", lawyer=lawyer(i), request_id=str(uuid.uuid4())
                ),
                metadata=md,
            )
        for title in ("检测实验室", "路演厅"):
            await create_resource(sh_sharing, "sh", carriers[0], title=title)
        await eventually(
            lambda: _stored(federation, "sh"), lambda n: n == 0, "sh's events expired", within_s=30
        )

        federation.restart_nats("zjg")  # back, with sh's history gone from every stream
        await federation.start_service("zjg")
        zjg_pairing = await federation.start_pairing("zjg")
        zjg_sharing = await federation.start_sharing("zjg")
        zjg = federation.regions["zjg"]
        zmd = auth(Tokens("zjg").operator())
        await asyncio.sleep(2 * RETENTION_S)
        empty = await zjg.stub.ListCarriers(
            mpb.ListCarriersRequest(parent="regions/sh"), metadata=zmd
        )
        assert not empty.carriers, "nothing of sh reaches zjg by itself"

        published: dict[str, int] = {}
        for channel in [sh.channel, *(c for _, c in sh.extra)]:
            reply = await ops_grpc.OperationsServiceStub(channel).PublishSnapshot(
                ops.PublishSnapshotRequest(parent="regions/sh"), metadata=md
            )
            published.update(reply.events)
        assert published == {
            "carrier": 3, "startup": 1, "lawyer": 2, "resource": 2, "booking": 0
        }, published  # fmt: skip
        started = time.monotonic()

        async def both(call: Any, request: Any, field: str) -> tuple[list[Any], list[Any]]:
            home = getattr(await call[0](request, metadata=md), field)
            copy = getattr(await call[1](request, metadata=zmd), field)
            return _listed(home), _listed(copy)

        carriers_now = await eventually(
            lambda: both(
                (sh.stub.ListCarriers, zjg.stub.ListCarriers),
                mpb.ListCarriersRequest(parent="regions/sh"),
                "carriers",
            ),
            lambda pair: len(pair[0]) == 3 and pair[0] == pair[1],
            "zjg's copy of sh's carriers",
        )
        assert (moved.name, moved.etag) in carriers_now[1], "at its current version"
        await eventually(
            lambda: both(
                (sh_pairing.ListLawyers, zjg_pairing.ListLawyers),
                ppb.ListLawyersRequest(parent="regions/sh"),
                "lawyers",
            ),
            lambda pair: len(pair[0]) == 2 and pair[0] == pair[1],
            "zjg's copy of sh's lawyers",
        )
        await eventually(
            lambda: both(
                (sh_sharing.ListResources, zjg_sharing.ListResources),
                spb.ListResourcesRequest(parent="regions/sh"),
                "resources",
            ),
            lambda pair: len(pair[0]) == 2 and pair[0] == pair[1],
            "zjg's copy of sh's resources",
        )
        caught_up_s = time.monotonic() - started

        # live events go on from there: a later change wins, an earlier snapshot never does
        later = await sh.stub.UpdateCarrier(
            mpb.UpdateCarrierRequest(
                carrier=mpb.Carrier(name=carriers[1], city="无锡"),
                update_mask=FieldMask(paths=["city"]),
            ),
            metadata=md,
        )
        await ops_grpc.OperationsServiceStub(sh.channel).PublishSnapshot(
            ops.PublishSnapshotRequest(parent="regions/sh"), metadata=md
        )
        await eventually(
            lambda: zjg.stub.GetCarrier(mpb.GetCarrierRequest(name=later.name), metadata=zmd),
            lambda c: c.etag == later.etag and c.city == "无锡",
            "the live update",
        )
        assert caught_up_s < 15
    finally:
        await federation.stop()
