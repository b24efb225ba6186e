"""Membership benchmark: every figure beside a baseline measured in the same run.

  reads   GetCarrier, ListCarriers (page of 50) at 16 calls in flight ÷ bare grpc.aio echo
  writes  CreateCarrier (durable commit + outbox) ÷ naive path (commit + awaited publish-ack),
          same SQLite durability (synchronous=FULL) and the same nats-server
  events  time from CreateCarrier returning to its event on a JetStream consumer, p50/p99

Run: make bench   (about a minute; prints a markdown table for the README)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from kernel.auth import Role, issue_token
from kernel.procs import ManagedProcess, NatsServer, ServiceProcess, free_port
from kernel.streams import events_stream_name

from bench.baselines import ECHO_METHOD, NAIVE_METHOD

SECRET = "bench-secret-" + "b" * 32
IN_FLIGHT = 16


@dataclass
class Figure:
    name: str
    rate: float  # calls per second
    p50_ms: float
    p99_ms: float


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def load(name: str, call: Callable[[], Awaitable[object]], seconds: float) -> Figure:
    """Keeps IN_FLIGHT calls running for `seconds` after a short warm-up; rate and latency."""
    latencies: list[float] = []
    stop_at = time.monotonic() + 0.5 + seconds
    measure_from = time.monotonic() + 0.5

    async def worker() -> None:
        while (start := time.monotonic()) < stop_at:
            await call()
            if start >= measure_from:
                latencies.append(time.monotonic() - start)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return Figure(
        name, len(latencies) / seconds, _quantile(latencies, 0.5), _quantile(latencies, 0.99)
    )


async def paired(
    call: tuple[str, Callable[[], Awaitable[object]]],
    baseline: tuple[str, Callable[[], Awaitable[object]]],
    seconds: float,
    rounds: int,
) -> tuple[Figure, Figure]:
    """Alternates baseline and call `rounds` times and keeps each one's median round, so a burst
    of noise from the shared machine hits both sides instead of one."""
    calls, bases = [], []
    for _ in range(rounds):
        bases.append(await load(*baseline, seconds))
        calls.append(await load(*call, seconds))
    return _median(calls), _median(bases)


def _median(figures: list[Figure]) -> Figure:
    return sorted(figures, key=lambda f: f.rate)[len(figures) // 2]


def _start(process: ManagedProcess, ready: Callable[[], None]) -> ManagedProcess:
    process.start()
    ready()
    return process


def _wait_tcp(port: int, process: ManagedProcess) -> Callable[[], None]:
    def ready() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            process.fail_if_exited()
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                try:
                    grpc.channel_ready_future(channel).result(timeout=0.5)
                    return
                except grpc.FutureTimeoutError:
                    continue
        raise TimeoutError(f"{process.name} not ready")

    return ready


async def run(seconds: float, rounds: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
    region = "bench"
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    processes: list[ManagedProcess] = [_start(nats_server, nats_server.wait_ready)]
    try:
        echo_port, naive_port, service_port = free_port(), free_port(), free_port()
        py = sys.executable
        echo = ManagedProcess(
            "echo",
            [py, "-m", "bench.baselines", "echo", str(echo_port)],
            log_path=work / "echo.log",
        )
        processes.append(_start(echo, _wait_tcp(echo_port, echo)))
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
            log_path=work / "naive.log",
        )
        processes.append(_start(naive, _wait_tcp(naive_port, naive)))
        service = ServiceProcess(
            "membership",
            "alliance-membership",
            port=service_port,
            env={
                "MEMBERSHIP_REGION": region,
                "MEMBERSHIP_DB_PATH": str(work / "membership.db"),
                "MEMBERSHIP_NATS_URL": nats_server.url,
                "MEMBERSHIP_JWT_SECRET": SECRET,
                "MEMBERSHIP_LOG_LEVEL": "WARNING",
            },
            log_path=work / "membership.log",
        )
        processes.append(_start(service, service.wait_ready))
        return await _measure(
            region, echo_port, naive_port, service_port, nats_server.url, seconds, rounds
        )
    finally:
        for process in reversed(processes):
            process.stop()


async def _measure(
    region: str,
    echo_port: int,
    naive_port: int,
    service_port: int,
    nats_url: str,
    seconds: float,
    rounds: int,
) -> list[str]:
    md = (
        (
            "authorization",
            f"Bearer {issue_token(SECRET, subject='bench', role=Role.OPERATOR, region=region)}",
        ),
    )
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
        grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_ch,
        grpc.aio.insecure_channel(f"127.0.0.1:{naive_port}") as naive_ch,
        grpc.aio.insecure_channel(f"127.0.0.1:{service_port}") as svc_ch,
    ):
        stub = pb_grpc.MembershipServiceStub(svc_ch)
        names = [(await stub.CreateCarrier(create_request(), metadata=md)).name for _ in range(200)]
        get_request = pb.GetCarrierRequest(name=names[100])
        echo_call = echo_ch.unary_unary(ECHO_METHOD)
        naive_call = naive_ch.unary_unary(
            NAIVE_METHOD,
            request_serializer=pb.CreateCarrierRequest.SerializeToString,
            response_deserializer=pb.Carrier.FromString,
        )
        reads = {
            "GetCarrier": lambda: stub.GetCarrier(get_request, metadata=md),
            "ListCarriers, 10 per page": lambda: stub.ListCarriers(
                pb.ListCarriersRequest(parent=f"regions/{region}", page_size=10), metadata=md
            ),
            "ListCarriers, 50 per page": lambda: stub.ListCarriers(
                pb.ListCarriersRequest(parent=f"regions/{region}", page_size=50), metadata=md
            ),
        }
        rows = []
        for name, call in reads.items():
            size = str(len((await call()).SerializeToString())).encode()
            echo = (f"echo of {size.decode()} B", lambda s=size: echo_call(s, metadata=md))
            rows.append(_row(*await paired((name, call), echo, seconds, rounds), "≥ 0.7"))
        create, naive = await paired(
            (
                "CreateCarrier: commit + outbox",
                lambda: stub.CreateCarrier(create_request(), metadata=md),
            ),
            ("naive write: commit + awaited publish", lambda: naive_call(create_request())),
            seconds,
            rounds,
        )
        rows.append(_row(create, naive, "≥ 1.0"))
        lag = await _event_lag(stub, md, create_request, nats_url, region)

    return [
        f"| call ({IN_FLIGHT} in flight; median of {rounds} × {seconds:.0f} s) "
        "| throughput | p50 ms | p99 ms "
        "| baseline, same run | ratio | p99 ratio | goal |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        f"| create returned → its event on a JetStream consumer ({len(lag)} creates, one at a "
        f"time) | | {_quantile(lag, 0.5):.2f} | {_quantile(lag, 0.99):.2f} | | | | p99 ≤ 20 ms |",
    ]


def _row(fig: Figure, base: Figure, goal: str) -> str:
    return (
        f"| {fig.name} | {fig.rate:,.0f}/s | {fig.p50_ms:.2f} | {fig.p99_ms:.2f} "
        f"| {base.name}: {base.rate:,.0f}/s, p99 {base.p99_ms:.2f} ms "
        f"| **{fig.rate / base.rate:.2f}×** | {fig.p99_ms / base.p99_ms:.2f}× | {goal} |"
    )


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
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per pair")
    args = parser.parse_args()
    lines = asyncio.run(run(args.seconds, args.rounds))
    print("\n".join(lines))
    print(
        f"\n({time.strftime('%Y-%m-%d')}, python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
