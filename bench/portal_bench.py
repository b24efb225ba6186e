"""Portal benchmark: the two pages people open most, at 16 clients in flight over HTTPS, each
beside the gRPC call under it in the same run (alternating rounds, median kept):

  search page    GET /?q=…: 20 results, category and region facets, rendered ÷ SearchResources
                 of the same query, called directly
  resource page  GET /resources/…: the resource, its owner, and the units free in a window
                 (a few searches answered by the ledger's copy) ÷ GetResource of it

One region's membership, sharing and portal on NATS, 10 carriers and 2,000 resources created
through the API. The pages' work beyond the call is the portal's (templates, HTTP, TLS) and the
client's (aiohttp); the first row, a page that does nothing, shows what HTTPS and the client
cost by themselves.

Run: .venv/bin/python -m bench.portal_bench   (about a minute)
"""

from __future__ import annotations

import asyncio
import itertools
import random
import ssl
from urllib.parse import quote

import aiohttp
import grpc
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import ManagedProcess, NatsServer, PortalProcess
from yrd_alliance.kernel.auth import Role

from bench.harness import (
    IN_FLIGHT,
    ISSUER,
    JWKS,
    TLS,
    arguments,
    bearer,
    machine,
    open_channel,
    paired,
    row,
    scratch,
    service_process,
    start,
)

REGION = "sh"
CARRIERS = 10
RESOURCES = 2_000
WORDS = ("路演厅", "检测实验室", "会议室", "创业导师", "lab")
STEMS = ("路演厅", "检测实验室", "会议室", "创业导师辅导", "共享办公工位", "Shared lab bench")


async def _fill(membership: str, sharing: str) -> list[pb.Resource]:
    """Carriers, then their resources, through the public API as an operator would."""
    md = bearer(Role.OPERATOR, region=REGION)
    rng = random.Random(3)
    async with open_channel(membership) as m_channel, open_channel(sharing) as s_channel:
        members = mpb_grpc.MembershipServiceStub(m_channel)
        carriers = [
            await members.CreateCarrier(
                mpb.CreateCarrierRequest(
                    parent=f"regions/{REGION}",
                    carrier=mpb.Carrier(
                        display_name=f"基准孵化器{i:02d}",
                        level=mpb.CARRIER_LEVEL_PROVINCIAL,
                        kind=mpb.CARRIER_KIND_INCUBATOR,
                        industrial_chains=[1 + i % 8],
                        city="上海",
                        address="上海市杨浦区国定东路200号",
                        contact={
                            "person": "张三",
                            "phone": "+86 21 6565 0000",
                            "email": f"bench{i}@example.cn",
                        },
                    ),
                ),
                metadata=md,
            )
            for i in range(CARRIERS)
        ]
        sharing_stub = pb_grpc.SharingServiceStub(s_channel)

        async def create(index: int) -> pb.Resource:
            owner = carriers[index % CARRIERS].name
            while True:  # until sharing has heard of the carrier from membership's events
                try:
                    return await sharing_stub.CreateResource(
                        pb.CreateResourceRequest(
                            parent=f"regions/{REGION}",
                            resource=pb.Resource(
                                owner=owner,
                                category=1 + index % 6,  # type: ignore[arg-type]
                                title=f"{rng.choice(STEMS)}（{index}）",
                                description="面向联盟成员开放的服务，一键预约。",
                                industrial_chains=[1 + index % 8],
                                capacity=rng.choice((1, 3, 10, 20)),
                                visibility=pb.VISIBILITY_ALLIANCE,
                                state=pb.RESOURCE_STATE_PUBLISHED,
                            ),
                        ),
                        metadata=md,
                    )
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                        raise
                    await asyncio.sleep(0.1)

        made: list[pb.Resource] = []
        for first in range(0, RESOURCES, IN_FLIGHT * 4):
            batch = range(first, min(first + IN_FLIGHT * 4, RESOURCES))
            made += await asyncio.gather(*(create(i) for i in batch))
        return made


async def run(seconds: float, rounds: int) -> list[str]:
    work = scratch("alliance-portal-bench-")
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    processes: list[ManagedProcess] = [start(nats_server, nats_server.wait_ready)]
    try:
        services = {}
        for service in ("membership", "sharing", "pairing"):
            process = service_process(
                service, REGION, work=work, region=REGION, nats_url=nats_server.url
            )
            processes.append(start(process, process.wait_ready))
            services[service] = process.target
        print(f"  creating {CARRIERS} carriers and {RESOURCES:,} resources …", flush=True)
        resources = await _fill(services["membership"], services["sharing"])
        token_file = work / "partner.token"
        token_file.write_text(ISSUER.sign(subject="portal-bench", role=Role.PARTNER))
        portal = PortalProcess(
            "portal",
            port=free_port(),
            settings={
                "region": REGION,
                "tls_cert_file": TLS.cert,
                "tls_key_file": TLS.key,
                **services,
                "grpc_ca_file": TLS.ca,
                "jwks_file": JWKS,
                "partner_token_file": token_file,
                "log_level": "WARNING",
            },
            ca_file=TLS.ca,
            log_path=work / "portal.log",
        )
        processes.append(start(portal, portal.wait_ready))
        md = bearer(Role.PARTNER)
        rows = []
        verify = ssl.create_default_context(cafile=TLS.ca)
        connector = aiohttp.TCPConnector(limit=IN_FLIGHT, ssl=verify)
        async with (
            aiohttp.ClientSession(portal.url, connector=connector) as web,
            open_channel(services["sharing"]) as channel,
        ):
            stub = pb_grpc.SharingServiceStub(channel)
            words = itertools.cycle(WORDS)
            items = itertools.cycle(resources)

            async def page(path: str) -> None:
                async with web.get(path) as response:
                    response.raise_for_status()
                    await response.read()

            def searched() -> str:
                return f"/?q={quote(next(words))}"

            def opened() -> str:
                _, region, _, resource = next(items).name.split("/")
                return f"/resources/{region}/{resource}"

            pairs = [
                (
                    ("/healthz, a page that does nothing", lambda: page("/healthz")),
                    (
                        "GetResource",
                        lambda: stub.GetResource(
                            pb.GetResourceRequest(name=next(items).name), metadata=md
                        ),
                    ),
                ),
                (
                    ("search page, 20 per page with facets", lambda: page(searched())),
                    (
                        "SearchResources",
                        lambda: stub.SearchResources(
                            pb.SearchResourcesRequest(query=next(words), page_size=20),
                            metadata=md,
                        ),
                    ),
                ),
                (
                    ("resource page, with the units free tomorrow morning", lambda: page(opened())),
                    (
                        "GetResource",
                        lambda: stub.GetResource(
                            pb.GetResourceRequest(name=next(items).name), metadata=md
                        ),
                    ),
                ),
            ]
            for call, baseline in pairs:
                fig, base = await paired(call, baseline, seconds, rounds)
                rows.append(row(fig, base, "measured"))
                print(f"  {fig.name}: {fig.rate:,.0f}/s, p99 {fig.p99_ms:.1f} ms", flush=True)
        return [
            f"| page (16 in flight; median of {rounds} × {seconds:.0f} s; {RESOURCES:,} "
            "resources) | throughput | p50 ms | p99 ms | the gRPC call under it, same run "
            "| ratio | p99 ratio | goal |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    finally:
        for process in reversed(processes):
            process.stop()


def main() -> None:
    args = arguments(__doc__ or "", rounds=3).parse_args()
    print("\n".join(asyncio.run(run(args.seconds, args.rounds))))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
