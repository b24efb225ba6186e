"""Membership benchmark: every figure beside a baseline measured in the same run.

  reads   GetCarrier, ListCarriers (page of 50) at 16 calls in flight ÷ bare grpc.aio echo
  writes  CreateCarrier (durable commit + outbox) ÷ naive path (commit + awaited publish-ack),
          same SQLite durability (synchronous=FULL) and the same nats-server
  events  time from CreateCarrier returning to its event on a JetStream consumer, p50/p99

Run: make bench   (about a minute; prints a markdown table for the README)
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import nats
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import ManagedProcess, NatsServer
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.streams import events_stream_name

from bench.baselines import ECHO_METHOD, NAIVE_METHOD
from bench.harness import (
    BASELINE_ENV,
    IN_FLIGHT,
    arguments,
    bearer,
    machine,
    open_channel,
    paired,
    quantile,
    row,
    scratch,
    start,
    wait_tcp,
    with_and_without_cache,
)


async def run(seconds: float, rounds: int) -> list[str]:
    work = scratch("alliance-bench-")
    region = "bench"
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    processes: list[ManagedProcess] = [start(nats_server, nats_server.wait_ready)]
    try:
        echo_port, naive_port = free_port(), free_port()
        py = sys.executable
        echo = ManagedProcess(
            "echo",
            [py, "-m", "bench.baselines", "echo", str(echo_port)],
            env=BASELINE_ENV,
            log_path=work / "echo.log",
        )
        processes.append(start(echo, wait_tcp(echo_port, echo)))
        naive = ManagedProcess(
            "naive",
            [
                py,
                "-m",
                "bench.baselines",
                "naive",
                str(naive_port),
                str(work / "naive.db"),
                nats_server.url,
                "naive",
            ],
            env=BASELINE_ENV,
            log_path=work / "naive.log",
        )
        processes.append(start(naive, wait_tcp(naive_port, naive)))
        started = with_and_without_cache(
            "membership",
            processes,
            work=work,
            region=region,
            nats_url=nats_server.url,
            shared_db=False,
        )
        services = {label: process.port for label, process in started.items()}
        return await _measure(
            region, echo_port, naive_port, services, nats_server.url, seconds, rounds
        )
    finally:
        for process in reversed(processes):
            process.stop()


async def _measure(
    region: str,
    echo_port: int,
    naive_port: int,
    services: dict[str, int],
    nats_url: str,
    seconds: float,
    rounds: int,
) -> list[str]:
    md = bearer(Role.OPERATOR, region=region)
    sample = pb.Carrier(
        display_name="上海市科技创业中心",
        level=1,
        kind=1,
        city="上海",
        industrial_chains=[2, 6],
        address="上海市杨浦区国定东路200号",
    )

    def create_request() -> pb.CreateCarrierRequest:
        return pb.CreateCarrierRequest(
            parent=f"regions/{region}", carrier=sample, request_id=str(uuid.uuid4())
        )

    async with (
        open_channel(f"127.0.0.1:{echo_port}") as echo_ch,
        open_channel(f"127.0.0.1:{naive_port}") as naive_ch,
        open_channel(f"127.0.0.1:{services['cached']}") as svc_ch,
        open_channel(f"127.0.0.1:{services['uncached']}") as uncached_ch,
    ):
        stub = pb_grpc.MembershipServiceStub(svc_ch)
        uncached = pb_grpc.MembershipServiceStub(uncached_ch)
        names = [(await stub.CreateCarrier(create_request(), metadata=md)).name for _ in range(200)]
        for _ in range(200):
            await uncached.CreateCarrier(create_request(), metadata=md)
        get_request = pb.GetCarrierRequest(name=names[100])
        echo_call = echo_ch.unary_unary(ECHO_METHOD)
        naive_call = naive_ch.unary_unary(
            NAIVE_METHOD,
            request_serializer=pb.CreateCarrierRequest.SerializeToString,
            response_deserializer=pb.Carrier.FromString,
        )

        def list_call(
            client: pb_grpc.MembershipServiceStub, size: int
        ) -> Callable[[], Awaitable[pb.ListCarriersResponse]]:
            request = pb.ListCarriersRequest(parent=f"regions/{region}", page_size=size)
            return lambda: client.ListCarriers(request, metadata=md)

        reads = {
            "GetCarrier": lambda: stub.GetCarrier(get_request, metadata=md),
            "ListCarriers, 10 per page": list_call(stub, 10),
            "ListCarriers, 50 per page": list_call(stub, 50),
            "ListCarriers, 50 per page, read cache off": list_call(uncached, 50),
        }
        rows = []
        for name, call in reads.items():
            size = str(len((await call()).SerializeToString())).encode()
            echo = (f"echo of {size.decode()} B", lambda s=size: echo_call(s, metadata=md))
            rows.append(row(*await paired((name, call), echo, seconds, rounds), "≥ 0.7"))
        create, naive = await paired(
            (
                "CreateCarrier: commit + outbox",
                lambda: stub.CreateCarrier(create_request(), metadata=md),
            ),
            ("naive write: commit + awaited publish", lambda: naive_call(create_request())),
            seconds,
            rounds,
        )
        rows.append(row(create, naive, "≥ 1.0"))
        lag = await _event_lag(stub, md, create_request, nats_url, region)

    return [
        f"| call ({IN_FLIGHT} in flight; median of {rounds} × {seconds:.0f} s) "
        "| throughput | p50 ms | p99 ms "
        "| baseline, same run | ratio | p99 ratio | goal |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        f"| create returned → its event on a JetStream consumer ({len(lag)} creates, one at a "
        f"time) | | {quantile(lag, 0.5):.2f} | {quantile(lag, 0.99):.2f} | | | | p99 ≤ 20 ms |",
    ]


async def _event_lag(
    stub: pb_grpc.MembershipServiceStub,
    md: tuple[tuple[str, str], ...],
    create_request: Callable[[], pb.CreateCarrierRequest],
    nats_url: str,
    region: str,
) -> list[float]:
    nc = await nats.connect(nats_url)
    arrived: dict[str, float] = {}
    try:
        js = nc.jetstream()

        async def on_event(msg: nats.aio.msg.Msg) -> None:
            arrived[(msg.headers or {}).get("ce-subject", "")] = time.monotonic()

        await js.subscribe(
            f"alliance.{region}.>",
            stream=events_stream_name(region),
            cb=on_event,
            ordered_consumer=True,
            deliver_policy=nats.js.api.DeliverPolicy.NEW,
        )
        returned: dict[str, float] = {}
        for _ in range(500):
            reply = await stub.CreateCarrier(create_request(), metadata=md)
            returned[reply.name] = time.monotonic()
            await asyncio.sleep(0.002)
        deadline = time.monotonic() + 10
        while len(arrived) < len(returned) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return [max(0.0, arrived[n] - t) for n, t in returned.items() if n in arrived]
    finally:
        await nc.close()


def main() -> None:
    parser = arguments(__doc__, rounds=3)
    args = parser.parse_args()
    lines = asyncio.run(run(args.seconds, args.rounds))
    print("\n".join(lines))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
