"""Limits per caller: a burst of writes above a principal's rate gets RESOURCE_EXHAUSTED with a
RetryInfo delay and writes nothing; other callers and reads go on."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import grpc
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.tokens import issue_token
from yrd_alliance.membership.app import DEFINITION

from tests.conftest import (
    SIGNING_KEY,
    Tokens,
    auth,
    new_region,
    sample_carrier,
    settings_for,
    tls_channel,
)

BURST = 5


def retry_delay_s(error: grpc.aio.AioRpcError) -> float:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "RESOURCE_EXHAUSTED without google.rpc.Status details"
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    raise AssertionError("no RetryInfo in the details")


async def test_a_burst_above_the_rate_is_refused_with_retry_info_and_writes_nothing(
    nats_server: Any, tmp_path: Path
) -> None:
    region = new_region()
    settings = settings_for(region, tmp_path / "m.db", nats_server.url).model_copy(
        update={"write_rate_per_s": 1.0, "write_burst": BURST}
    )
    host = ServiceHost(DEFINITION, settings)
    port = await host.start()
    try:
        async with tls_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            tokens = Tokens(region)
            eager = auth(tokens.operator())

            def create(md: Any) -> Any:
                return stub.CreateCarrier(
                    pb.CreateCarrierRequest(
                        parent=f"regions/{region}",
                        carrier=sample_carrier(),
                        request_id=str(uuid.uuid4()),
                    ),
                    metadata=md,
                )

            outcomes = await asyncio.gather(
                *(create(eager) for _ in range(3 * BURST)), return_exceptions=True
            )
            made = [o for o in outcomes if isinstance(o, pb.Carrier)]
            refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
            assert len(made) == BURST and len(refused) == 2 * BURST, outcomes
            for error in refused:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert 0 < retry_delay_s(error) <= 1.0
            listed = await stub.ListCarriers(
                pb.ListCarriersRequest(parent=f"regions/{region}", page_size=100), metadata=eager
            )  # reads are not limited
            assert len(listed.carriers) == BURST, "a refused write stored something"
            # another operator of the region has an allowance of its own
            colleague = issue_token(
                SIGNING_KEY, subject="another-op", role=Role.OPERATOR, region=region
            )
            assert (await create(auth(colleague))).name
            # after the delay it says, the eager caller may write again
            await asyncio.sleep(retry_delay_s(refused[0]) + 0.05)
            assert (await create(eager)).name
    finally:
        await host.stop()
