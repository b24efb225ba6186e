"""Sharing benchmark, every figure beside a baseline measured in the same run:

  search    SearchResources over 50,000 and 500,000 published resources in one region's
            database, at 16 calls in flight ÷ a bare grpc.aio echo of a reply of the same size
            (goals: p99 ≤ 20 ms, ratio ≥ 0.5); then 1,000 distinct queries of each kind (Chinese
            words of 2 and of 3–5 characters, English, both, filters only, free units in a
            window), none repeated, so the read cache answers none ÷ an echo of 2 KiB, with
            the CPU per call of the client, the service and its search process; the
            index's size and build time, the service's memory and start time; each kind's p99
            at 500,000 ÷ at 50,000 (goal ≤ 2)
  workflow  a Hangzhou request for a Shanghai resource: CreateRequest returns in hz → the owner
            approves in sh as soon as the booking appears → hz's GetRequest shows APPROVED
            (sequential samples; the human decision is excluded)

Run: .venv/bin/python -m bench.sharing_bench   (about 7 minutes; --sizes 50000 alone about 2)
"""

from __future__ import annotations

import asyncio
import random
import shutil
import sys
import time
import uuid
from pathlib import Path

from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import ManagedProcess, NatsServer, children, region_nats
from yrd_alliance.deployment.topology import free_base_port, local_topology
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.clock import to_timestamp, utcnow
from yrd_alliance.kernel.db import Database
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from yrd_alliance.kernel.sql_tables import SqlRows
from yrd_alliance.sharing import store

from bench.baselines import ECHO_METHOD
from bench.harness import (
    BASELINE_ENV,
    CpuUse,
    arguments,
    bearer,
    calls_made,
    load,
    load_each,
    machine,
    open_channel,
    paired,
    quantile,
    row,
    rss_mb,
    scratch,
    service_process,
    start,
    wait_tcp,
    with_and_without_cache,
)
from tests.helpers import eventually

STEMS = ("检测实验室", "路演厅", "共享工位", "创业导师辅导", "天使投资对接会", "申报辅导", "实训营")
ENGLISH = ("testing lab", "roadshow hall", "shared desk", "mentor coaching", "angel investors",
           "grant filing", "training camp")  # fmt: skip
CHAINS = ("冶金新材料", "生物医药", "高端纺织", "智能装备", "新能源", "集成电路", "数字经济")
DISTINCT = 1000  # queries of each kind, none repeated: 10 samples above the p99
KINDS = (
    "Chinese, 2 characters",
    "Chinese, 3–5 characters",
    "English word",
    "two words, Chinese and English",
    "filters only",
    "free units in a window",
)


def fill(path: Path, region: str, count: int) -> None:
    """A region's database holding `count` published resources of three regions, as if
    replicated: written with the service's own store code before the service starts."""
    db = Database(path, sync_full=False)
    db.migrate([*KERNEL_MIGRATIONS, *store.MIGRATIONS])
    rng = random.Random(7)
    with db.transaction() as tx:
        for index in range(count):
            home = ("sh", "hz", "zjg")[index % 3]
            stem, chain = rng.randrange(len(STEMS)), rng.randrange(len(CHAINS))
            resource = pb.Resource(
                name=f"regions/{home}/resources/{new_id()}",
                owner=f"regions/{home}/carriers/{new_id()}",
                category=rng.randint(1, 6),  # type: ignore[arg-type]
                title=f"{CHAINS[chain]}{STEMS[stem]}（{index}）",
                description=f"面向联盟成员开放的{CHAINS[chain]}{STEMS[stem]}服务"
                f"（{ENGLISH[stem]}），编号{index}。",
                industrial_chains=[chain + 1],
                capacity=rng.choice((0, 1, 3, 10)),
                visibility=pb.VISIBILITY_ALLIANCE,
                state=pb.RESOURCE_STATE_PUBLISHED,
            )
            resource.update_time.CopyFrom(to_timestamp(utcnow()))
            SqlRows(store.RESOURCES, tx).put(resource, 1)
    db.close()


def distinct_queries(rng: random.Random) -> dict[str, list[pb.SearchResourcesRequest]]:
    """DISTINCT queries of each kind a member types, every one different from every other (in
    its words, filters, order or page size), so the read cache answers none of them."""
    chinese = " ".join((*STEMS, *CHAINS))
    words = {
        n: sorted({chinese[i : i + n] for i in range(len(chinese) - n + 1)} - {" "})
        for n in (2, 3, 4, 5)
    }
    words = {n: [w for w in ws if " " not in w] for n, ws in words.items()}
    english = sorted({w for phrase in ENGLISH for w in phrase.split()})

    def text(kind: str) -> str:
        if kind == "Chinese, 2 characters":
            return rng.choice(words[2])
        if kind == "Chinese, 3–5 characters":
            return rng.choice(words[rng.randint(3, 5)])
        if kind == "English word":
            return rng.choice(english)
        if kind == "two words, Chinese and English":
            return f"{rng.choice(words[rng.randint(2, 4)])} {rng.choice(english)}"
        return ""

    kinds: dict[str, list[pb.SearchResourcesRequest]] = {}
    for kind in KINDS:
        seen: set[bytes] = set()
        while len(seen) < DISTINCT:
            request = pb.SearchResourcesRequest(
                query=text(kind),
                page_size=rng.randint(5, 50),
                order=rng.choice([pb.SEARCH_ORDER_RELEVANCE, pb.SEARCH_ORDER_RECENT]),
            )
            if kind in ("filters only", "free units in a window") or rng.random() < 0.3:
                request.category = rng.choice([0, rng.randint(1, 6)])  # type: ignore[assignment]
                request.industrial_chain = rng.choice([0, rng.randint(1, 7)])  # type: ignore[assignment]
                request.region = rng.choice(["", "regions/sh", "regions/hz", "regions/zjg"])
            if kind == "free units in a window":
                start = int(time.time()) + rng.randint(1, 60) * 86400
                request.window.start_time.seconds = start
                request.window.end_time.seconds = start + rng.randint(1, 8) * 3600
                request.free_units = rng.randint(1, 5)
            seen.add(request.SerializeToString(deterministic=True))
        kinds[kind] = [pb.SearchResourcesRequest.FromString(r) for r in sorted(seen)]
    return kinds


def _size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6


async def search_figures(resources: int, seconds: float, rounds: int) -> tuple[list[str], dict]:
    """The table of one catalogue size, and each distinct kind's p99 (for the comparison of
    sizes)."""
    work = scratch("alliance-sharing-bench-")
    region = "sh"
    print(f"  filling {resources:,} resources …", flush=True)
    fill(work / "sharing-cached.db", region, resources)
    shutil.copy(work / "sharing-cached.db", work / "sharing-uncached.db")
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    processes: list[ManagedProcess] = [start(nats_server, nats_server.wait_ready)]
    try:
        echo_port = free_port()
        echo_server = ManagedProcess(
            "echo",
            [sys.executable, "-m", "bench.baselines", "echo", str(echo_port)],
            env=BASELINE_ENV,
            log_path=work / "echo.log",
        )
        processes.append(start(echo_server, wait_tcp(echo_port, echo_server)))
        began = time.monotonic()
        started = with_and_without_cache(
            "sharing",
            processes,
            work=work,
            region=region,
            nats_url=nats_server.url,
            shared_db=False,
        )
        ready_s = time.monotonic() - began
        cached = started["cached"]
        await asyncio.gather(*(_searchable(p.target) for p in started.values()))
        costs = {
            "database": f"{_size_mb(work / 'sharing-cached.db'):,.0f} MB",
            "search index": f"{_size_mb(work / 'sharing-cached.search'):,.0f} MB",
            "both services serving (the index still being built)": f"{ready_s:.1f} s",
            "index built at first start (both services building theirs at once)": (
                f"{time.monotonic() - began:.1f} s"
            ),
        }
        print(f"  {costs}", flush=True)
        services = {label: process.target for label, process in started.items()}
        md = bearer(Role.PARTNER)
        queries = {
            "SearchResources '检测实验室' (full-text, 20 per page, facets)": (
                pb.SearchResourcesRequest(query="检测实验室", page_size=20)
            ),
            "SearchResources category + chain (20 per page, facets)": pb.SearchResourcesRequest(
                category=pb.CATEGORY_SPACE_VENUE, industrial_chain=3, page_size=20
            ),
            "SearchResources '路演' (two characters)": pb.SearchResourcesRequest(
                query="路演", page_size=20
            ),
        }
        rows = []
        unseen_p99: dict[str, float] = {}
        async with (
            open_channel(f"127.0.0.1:{echo_port}") as echo_ch,
            open_channel(services["cached"]) as cached_ch,
            open_channel(services["uncached"]) as uncached_ch,
        ):
            echo_call = echo_ch.unary_unary(ECHO_METHOD)
            for label, channel in (("uncached", uncached_ch), ("cached", cached_ch)):
                stub = pb_grpc.SharingServiceStub(channel)
                for name, request in queries.items():
                    reply = await stub.SearchResources(request, metadata=md)
                    size = str(len(reply.SerializeToString())).encode()
                    fig, base = await paired(
                        (
                            f"{name}, {label}",
                            lambda r=request, s=stub: s.SearchResources(r, metadata=md),
                        ),
                        (f"echo of {size.decode()} B", lambda s=size: echo_call(s, metadata=md)),
                        seconds,
                        rounds,
                    )
                    rows.append(
                        row(fig, base, "p99 ≤ 20 ms, ≥ 0.5") + f" {reply.total_size:,} matches |"
                    )
                    print(f"  {fig.name}: p99 {fig.p99_ms:.2f} ms", flush=True)
            stub = pb_grpc.SharingServiceStub(cached_ch)
            meter = CpuUse({"server": [echo_server.pid]})
            echo = await load("echo of 2 KiB", lambda: echo_call(b"2048", metadata=md), seconds)
            echo_cpu = meter.per_call(calls_made(echo, seconds))
            cpu = [_cpu_row(echo.name, echo_cpu, echo_cpu)]
            unseen = [
                "",
                f"| {DISTINCT} distinct queries of each kind, cache on but never hit "
                f"(16 in flight; {resources:,} resources) | throughput | p50 ms | p99 ms "
                "| baseline, same run | ratio | p99 ratio | goal |",
                "|---|---|---|---|---|---|---|---|",
            ]
            searching = {"server": [cached.pid], "search": children(cached.pid)}
            for kind, requests in distinct_queries(random.Random(11)).items():
                meter = CpuUse(searching)
                fig = await load_each(
                    kind,
                    [lambda r=r: stub.SearchResources(r, metadata=md) for r in requests],
                )
                unseen.append(row(fig, echo, "p99 ≤ 20 ms, ≥ 0.5"))
                cpu.append(_cpu_row(kind, meter.per_call(len(requests)), echo_cpu))
                unseen_p99[kind] = fig.p99_ms
                print(f"  {kind}: p99 {fig.p99_ms:.2f} ms", flush=True)
        searchers = children(cached.pid)
        costs["memory after the queries: the service + its search processes"] = (
            f"{rss_mb(cached.pid):,.0f} + {' + '.join(f'{rss_mb(p):,.0f}' for p in searchers)} MB"
        )
        cached.stop()
        began = time.monotonic()
        start(cached, cached.wait_ready)
        await _searchable(cached.target)
        costs["start with the index in place, to the first search"] = (
            f"{time.monotonic() - began:.1f} s"
        )
        return [
            f"| call (16 in flight; median of {rounds} × {seconds:.0f} s; {resources:,} "
            "resources) | throughput | p50 ms | p99 ms | baseline, same run | ratio | p99 ratio "
            "| goal | matches |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            *unseen,
            "",
            f"| CPU per call, µs ({resources:,} resources) | client | server | its search "
            "processes | total | the echo's total ÷ this |",
            "|---|---|---|---|---|---|",
            *cpu,
            "",
            f"| what the index costs at {resources:,} resources | |",
            "|---|---|",
            *(f"| {what} | {figure} |" for what, figure in costs.items()),
        ], unseen_p99
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(work, ignore_errors=True)  # now: 600 MB at 500,000 resources


def _cpu_row(name: str, used: dict[str, float], echo: dict[str, float]) -> str:
    """A row of the CPU table: each side's µs per call, and the echo's total ÷ this one's, the
    most the ratio of their throughputs can be while the machine's every core is busy."""
    total = sum(used.values())
    search = f"{used['search']:,.0f}" if "search" in used else "–"
    return (
        f"| {name} | {used['client']:,.0f} | {used['server']:,.0f} | {search} | {total:,.0f} "
        f"| {sum(echo.values()) / total:.2f}× |"
    )


async def _searchable(target: str) -> None:
    """Returns when the service answers a search: its index is built."""
    async with open_channel(target) as channel:
        await pb_grpc.SharingServiceStub(channel).SearchResources(
            pb.SearchResourcesRequest(page_size=1), metadata=bearer(Role.PARTNER), timeout=3600
        )


def growth(p99: dict[int, dict[str, float]]) -> list[str]:
    """Each kind's p99 at the largest size ÷ at the smallest (goal ≤ 2)."""
    small, large = min(p99), max(p99)
    if small == large:
        return []
    return [
        f"| distinct queries, p99 at {large:,} ÷ at {small:,} resources | ratio | goal |",
        "|---|---|---|",
        *(f"| {kind} | {p99[large][kind] / p99[small][kind]:.2f}× | ≤ 2× |" for kind in p99[small]),
    ]


async def workflow_figures(samples: int) -> list[str]:
    work = scratch("alliance-sharing-flow-")
    regions = ["sh", "hz"]
    topology = local_topology(regions, base_port=free_base_port(len(regions)))
    processes: list[ManagedProcess] = []
    targets: dict[tuple[str, str], str] = {}
    try:
        for name in regions:
            server = region_nats(topology, name, work / "nats", work / f"nats-{name}.log")
            processes.append(start(server, server.wait_ready))
        for name in regions:
            for service in ("membership", "sharing"):
                process = service_process(
                    service,
                    name,
                    work=work,
                    region=name,
                    nats_url=f"nats://127.0.0.1:{topology.region(name).client_port}",
                    federation=",".join(regions),
                )
                processes.append(start(process, process.wait_ready))
                targets[(name, service)] = process.target
        await asyncio.sleep(3)  # let the supervisors bring every source up
        latencies = await _approve_loop(targets, samples)
    finally:
        for process in reversed(processes):
            process.stop()
    return [
        f"| path ({len(latencies)} sequential requests) | p50 ms | p99 ms | goal |",
        "|---|---|---|---|",
        f"| CreateRequest returns in hz → approved in sh as soon as held → APPROVED in hz "
        f"| {quantile(latencies, 0.5):.2f} | {quantile(latencies, 0.99):.2f} | |",
    ]


async def _soon(call, ok):  # type: ignore[no-untyped-def]
    return await eventually(call, ok, "the workflow", interval_s=0.001)


async def _approve_loop(targets: dict[tuple[str, str], str], samples: int) -> list[float]:
    channels = {key: open_channel(t) for key, t in targets.items()}
    try:
        members = {
            r: mpb_grpc.MembershipServiceStub(channels[(r, "membership")]) for r in ("sh", "hz")
        }
        sharing = {r: pb_grpc.SharingServiceStub(channels[(r, "sharing")]) for r in ("sh", "hz")}
        carrier = mpb.Carrier(display_name="上海市科技创业中心", level=1, kind=1, city="上海")
        owner = (
            await members["sh"].CreateCarrier(
                mpb.CreateCarrierRequest(parent="regions/sh", carrier=carrier),
                metadata=bearer(Role.OPERATOR, region="sh"),
            )
        ).name
        requester = (
            await members["hz"].CreateCarrier(
                mpb.CreateCarrierRequest(parent="regions/hz", carrier=carrier),
                metadata=bearer(Role.OPERATOR, region="hz"),
            )
        ).name
        as_owner, as_requester = (
            bearer(Role.CARRIER, carrier=owner),
            bearer(Role.CARRIER, carrier=requester),
        )
        lab = await _soon(
            lambda: sharing["sh"].CreateResource(
                pb.CreateResourceRequest(
                    parent="regions/sh",
                    resource=pb.Resource(
                        owner=owner,
                        category=1,
                        title="检测实验室",
                        capacity=0,
                        visibility=pb.VISIBILITY_ALLIANCE,
                        state=pb.RESOURCE_STATE_PUBLISHED,
                    ),
                    request_id=str(uuid.uuid4()),
                ),
                metadata=as_owner,
            ),
            lambda _: True,
        )
        window = pb.TimeWindow()
        window.start_time.seconds = int(time.time()) + 86400
        window.end_time.seconds = window.start_time.seconds + 3600
        asking = pb.CreateRequestRequest(
            parent="regions/hz",
            request=pb.Request(
                resource=lab.name, requester=requester, units=1, window=window, purpose="检测"
            ),
        )
        await _soon(
            lambda: sharing["hz"].CreateRequest(asking, metadata=as_requester), lambda _: True
        )
        latencies = []
        for _ in range(samples):
            made = await sharing["hz"].CreateRequest(asking, metadata=as_requester)
            returned = time.monotonic()
            await _soon(
                lambda made=made: sharing["sh"].ApproveRequest(
                    pb.ApproveRequestRequest(name=made.name), metadata=as_owner
                ),
                lambda _: True,
            )
            await _soon(
                lambda made=made: sharing["hz"].GetRequest(
                    pb.GetRequestRequest(name=made.name), metadata=as_requester
                ),
                lambda r: r.state == pb.REQUEST_STATE_APPROVED,
            )
            latencies.append(time.monotonic() - returned)
        return latencies
    finally:
        for channel in channels.values():
            await channel.close()


def main() -> None:
    parser = arguments(__doc__, rounds=3)
    parser.add_argument("--samples", type=int, default=200, help="sequential cross-region requests")
    parser.add_argument(
        "--sizes", default="50000,500000", help="catalogue sizes to search, comma-separated"
    )
    args = parser.parse_args()
    lines: list[str] = []
    p99: dict[int, dict[str, float]] = {}
    for size in (int(n) for n in args.sizes.split(",")):
        table, p99[size] = asyncio.run(search_figures(size, args.seconds, args.rounds))
        lines += [*table, ""]
    lines += [*growth(p99), "", *asyncio.run(workflow_figures(args.samples))]
    print("\n".join(lines))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
