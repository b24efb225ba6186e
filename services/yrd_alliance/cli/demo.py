"""Demo data from the source article: 10 provincial-or-above carriers over sh / hz / zjg, the two
lead members among them, and 23 tenant startups each (230 in all), loaded idempotently through
the public API (deterministic request ids, so loading twice changes nothing)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from alliance.type.v1 import types_pb2 as types

from yrd_alliance.deployment.channels import GrpcTarget

NAMESPACE = uuid.UUID("6f1c1a52-52a4-4d8c-9d0b-8a5e0c2a7a11")
STARTUPS_PER_CARRIER = 23
N, P = pb.CARRIER_LEVEL_NATIONAL, pb.CARRIER_LEVEL_PROVINCIAL
INCUBATOR, ACCELERATOR, MAKERSPACE, PARK = (
    pb.CARRIER_KIND_INCUBATOR,
    pb.CARRIER_KIND_ACCELERATOR,
    pb.CARRIER_KIND_MAKERSPACE,
    pb.CARRIER_KIND_SCIENCE_PARK,
)
C = types.IndustrialChain


@dataclass(frozen=True)
class DemoCarrier:
    key: str
    region: str
    name: str
    level: pb.CarrierLevel
    kind: pb.CarrierKind
    chains: tuple[types.IndustrialChain, ...]
    city: str
    address: str
    lead: bool = False


CARRIERS = (
    DemoCarrier(
        "stec",
        "sh",
        "上海市科技创业中心",
        N,
        INCUBATOR,
        (C.INDUSTRIAL_CHAIN_INTEGRATED_CIRCUITS, C.INDUSTRIAL_CHAIN_BIOMEDICINE),
        "上海",
        "上海市杨浦区",
        lead=True,
    ),
    DemoCarrier(
        "caohejing",
        "sh",
        "漕河泾科技创业中心",
        N,
        INCUBATOR,
        (C.INDUSTRIAL_CHAIN_INTEGRATED_CIRCUITS, C.INDUSTRIAL_CHAIN_DIGITAL_ECONOMY),
        "上海",
        "上海市徐汇区",
    ),
    DemoCarrier(
        "zhangjiang",
        "sh",
        "张江生物医药孵化器",
        N,
        INCUBATOR,
        (C.INDUSTRIAL_CHAIN_BIOMEDICINE,),
        "上海",
        "上海市浦东新区",
    ),
    DemoCarrier(
        "hzhitech",
        "hz",
        "杭州高新区科技创业服务中心",
        N,
        INCUBATOR,
        (C.INDUSTRIAL_CHAIN_DIGITAL_ECONOMY, C.INDUSTRIAL_CHAIN_INTELLIGENT_EQUIPMENT),
        "杭州",
        "杭州市滨江区",
        lead=True,
    ),
    DemoCarrier(
        "futuresci",
        "hz",
        "未来科技城创新加速器",
        P,
        ACCELERATOR,
        (C.INDUSTRIAL_CHAIN_DIGITAL_ECONOMY, C.INDUSTRIAL_CHAIN_NEW_ENERGY),
        "杭州",
        "杭州市余杭区",
    ),
    DemoCarrier(
        "hzmaker",
        "hz",
        "杭州青年创业众创空间",
        P,
        MAKERSPACE,
        (C.INDUSTRIAL_CHAIN_DIGITAL_ECONOMY,),
        "杭州",
        "杭州市西湖区",
    ),
    DemoCarrier(
        "zjgpark",
        "zjg",
        "张家港市科技创业园",
        P,
        PARK,
        (C.INDUSTRIAL_CHAIN_METALLURGY_NEW_MATERIALS, C.INDUSTRIAL_CHAIN_INTELLIGENT_EQUIPMENT),
        "张家港",
        "张家港市杨舍镇",
    ),
    DemoCarrier(
        "nanan",
        "zjg",
        "南岸创新社区孵化器",
        P,
        INCUBATOR,
        (C.INDUSTRIAL_CHAIN_BIOMEDICINE, C.INDUSTRIAL_CHAIN_NEW_ENERGY),
        "张家港",
        "张家港市南岸创新社区",
    ),
    DemoCarrier(
        "bonded",
        "zjg",
        "张家港保税区科技创业中心",
        P,
        INCUBATOR,
        (C.INDUSTRIAL_CHAIN_PORT_LOGISTICS, C.INDUSTRIAL_CHAIN_METALLURGY_NEW_MATERIALS),
        "张家港",
        "张家港保税区",
    ),
    DemoCarrier(
        "textile",
        "zjg",
        "高端纺织产业创新中心",
        P,
        PARK,
        (C.INDUSTRIAL_CHAIN_HIGH_END_TEXTILES,),
        "张家港",
        "张家港市塘桥镇",
    ),
)

_WORDS = (
    "芯",
    "微纳",
    "智造",
    "生物",
    "新材",
    "云图",
    "储能",
    "光电",
    "医疗",
    "数智",
    "纺科",
    "港联",
)
_TAILS = ("科技", "技术", "医药", "智能", "材料", "信息")
_AREAS = cast(
    list[types.LegalArea],
    [a for a in types.LegalArea.values() if a != types.LEGAL_AREA_UNSPECIFIED],
)


def request_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def startups_of(carrier: DemoCarrier) -> list[pb.Startup]:
    rng = random.Random(carrier.key)  # deterministic: the same demo every time
    startups = []
    for index in range(STARTUPS_PER_CARRIER):
        word, tail = rng.choice(_WORDS), rng.choice(_TAILS)
        startups.append(
            pb.Startup(
                display_name=f"{carrier.city}{word}{tail}有限公司（{index + 1:02d}）",
                legal_needs=sorted(rng.sample(_AREAS, rng.randint(1, 3))),
                industrial_chains=[rng.choice(carrier.chains)],
                headcount=rng.randint(3, 120),
            )
        )
    return startups


def load(
    region: str,
    stub: pb_grpc.MembershipServiceStub,
    metadata: tuple[tuple[str, str], ...],
    progress: Callable[[str], None] = lambda _line: None,
) -> tuple[int, int]:
    """Loads the demo carriers of one region and their startups; returns (carriers, startups)."""
    carriers = startups = 0
    for demo in (c for c in CARRIERS if c.region == region):
        carrier = stub.CreateCarrier(
            pb.CreateCarrierRequest(
                parent=f"regions/{region}",
                request_id=request_id(region, demo.key),
                carrier=pb.Carrier(
                    display_name=demo.name,
                    level=demo.level,
                    kind=demo.kind,
                    industrial_chains=demo.chains,  # type: ignore[arg-type]
                    city=demo.city,
                    address=demo.address,
                    lead_member=demo.lead,
                    contact=types.Contact(person="联络员", email=f"contact@{demo.key}.example.cn"),
                ),
            ),
            metadata=metadata,
            timeout=10,
        )
        carriers += 1
        for index, startup in enumerate(startups_of(demo)):
            stub.CreateStartup(
                pb.CreateStartupRequest(
                    parent=carrier.name,
                    startup=startup,
                    request_id=request_id(region, demo.key, str(index)),
                ),
                metadata=metadata,
                timeout=10,
            )
            startups += 1
        progress(f"{region}: {demo.name} with {STARTUPS_PER_CARRIER} startups")
    return carriers, startups


def carrier_names(target: GrpcTarget, region: str, token: str) -> dict[str, str]:
    """The region's demo carriers as loaded: display name → resource name."""
    with target.channel() as channel:
        reply = pb_grpc.MembershipServiceStub(channel).ListCarriers(
            pb.ListCarriersRequest(parent=f"regions/{region}", page_size=1000),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
    demo = {c.name for c in CARRIERS if c.region == region}
    return {c.display_name: c.name for c in reply.carriers if c.display_name in demo}


def load_all(
    targets: dict[str, GrpcTarget],
    token_for: Callable[[str], str],
    progress: Callable[[str], None] = lambda _line: None,
) -> tuple[int, int]:
    total = (0, 0)
    for region, target in targets.items():
        with target.channel() as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            md = (("authorization", f"Bearer {token_for(region)}"),)
            loaded = load(region, stub, md, progress)
        total = (total[0] + loaded[0], total[1] + loaded[1])
    return total
