"""Storage benchmark: the membership service on SQLite (the baseline, measured in the same run)
and on PostgreSQL, with one replica and with two sharing the database.

  writes  CreateCarrier (durable commit + outbox), 16 calls in flight
  reads   GetCarrier with the read cache off, so every call reads the database

With two replicas the client sends its calls to both in turn, as a load balancer would; one of
them (the leader) also publishes the outbox. Every process (the client, NATS, PostgreSQL and
the replicas) shares the machine's cores, so what a second replica adds shows only where the
first one left a core idle.

Run: make bench   (about a minute and a half; prints a markdown table for the README)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from itertools import count

from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from yrd_alliance.deployment.postgres_server import PostgresServer
from yrd_alliance.deployment.procs import ManagedProcess, NatsServer, ServiceProcess
from yrd_alliance.kernel.auth import Role

from bench.harness import (
    Figure,
    arguments,
    bearer,
    load,
    machine,
    open_channel,
    scratch,
    service_process,
    start,
)

REGION = "bench"
SAMPLE = pb.Carrier(
    display_name="上海市科技创业中心",
    level=1,
    kind=1,
    city="上海",
    industrial_chains=[2, 6],
    address="上海市杨浦区国定东路200号",
)


async def run(seconds: float, rounds: int) -> list[str]:
    work = scratch("alliance-bench-")
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    postgres = PostgresServer()
    processes: list[ManagedProcess] = [
        start(nats_server, nats_server.wait_ready),
        start(postgres, postgres.wait_ready),
    ]
    try:

        def membership(label: str, **settings: str) -> ServiceProcess:
            process = service_process(
                "membership", label, work=work, region=REGION, nats_url=nats_server.url,
                read_cache_mb="0", **settings,
            )  # fmt: skip
            processes.append(start(process, process.wait_ready))
            return process

        one, two = postgres.create_database("one"), postgres.create_database("two")
        variants = {
            "SQLite, 1 process": [membership("sqlite")],
            "PostgreSQL, 1 replica": [membership("pg-1", database_url=one)],
            "PostgreSQL, 2 replicas": [
                membership("pg-2a", database_url=two),
                membership("pg-2b", database_url=two),
            ],
        }
        return await _measure(variants, seconds, rounds)
    finally:
        for process in reversed(processes):
            process.stop()


async def _measure(
    variants: dict[str, list[ServiceProcess]], seconds: float, rounds: int
) -> list[str]:
    md = bearer(Role.OPERATOR, region=REGION)
    channels = {
        label: [open_channel(f"127.0.0.1:{p.port}") for p in replicas]
        for label, replicas in variants.items()
    }
    try:
        writes: dict[str, Callable[[], Awaitable[object]]] = {}
        reads: dict[str, Callable[[], Awaitable[object]]] = {}
        for label, opened in channels.items():
            stubs = [pb_grpc.MembershipServiceStub(c) for c in opened]
            turn = count()

            def create(stubs: list[pb_grpc.MembershipServiceStub] = stubs, turn: count[int] = turn
                       ) -> Awaitable[pb.Carrier]:  # fmt: skip
                request = pb.CreateCarrierRequest(
                    parent=f"regions/{REGION}", carrier=SAMPLE, request_id=str(uuid.uuid4())
                )
                return stubs[next(turn) % len(stubs)].CreateCarrier(request, metadata=md)

            names = [(await create()).name for _ in range(200)]

            def get(stubs: list[pb_grpc.MembershipServiceStub] = stubs, turn: count[int] = turn,
                    names: list[str] = names) -> Awaitable[pb.Carrier]:  # fmt: skip
                n = next(turn)
                request = pb.GetCarrierRequest(name=names[n % len(names)])
                return stubs[n % len(stubs)].GetCarrier(request, metadata=md)

            writes[label], reads[label] = create, get
        figures: dict[tuple[str, str], list[Figure]] = {}
        for _ in range(rounds):  # alternating, so a burst of noise hits every variant
            for label in variants:
                for kind, call in (("writes", writes[label]), ("reads", reads[label])):
                    figures.setdefault((label, kind), []).append(await load(label, call, seconds))
        return _table(variants, figures)
    finally:
        for opened in channels.values():
            for channel in opened:
                await channel.close()


def _table(
    variants: dict[str, list[ServiceProcess]], figures: dict[tuple[str, str], list[Figure]]
) -> list[str]:
    def median(label: str, kind: str) -> Figure:
        ordered = sorted(figures[label, kind], key=lambda f: f.rate)
        return ordered[len(ordered) // 2]

    baseline = next(iter(variants))
    lines = [
        "| storage | CreateCarrier | p99 | ÷ SQLite | GetCarrier (no cache) | p99 | ÷ SQLite |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label in variants:
        w, r = median(label, "writes"), median(label, "reads")
        bw, br = median(baseline, "writes"), median(baseline, "reads")
        lines.append(
            f"| {label} | {w.rate:,.0f}/s | {w.p99_ms:.1f} ms | **{w.rate / bw.rate:.2f}×** "
            f"| {r.rate:,.0f}/s | {r.p99_ms:.1f} ms | **{r.rate / br.rate:.2f}×** |"
        )
    return lines


def main() -> None:
    parser = arguments(__doc__, rounds=3)
    args = parser.parse_args()
    lines = asyncio.run(run(args.seconds, args.rounds))
    print("\n".join(lines))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
