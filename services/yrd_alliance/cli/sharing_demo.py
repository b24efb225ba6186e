"""The "service supermarket" as demo data: 498 published service items in the 6 categories,
shared by the 10 demo carriers of the three regions, loaded through the public API with
deterministic request ids, so loading twice changes nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import grpc
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as pb_grpc

from yrd_alliance.cli.demo import CARRIERS, DemoCarrier, carrier_names, request_id
from yrd_alliance.deployment.channels import GrpcTarget

ITEMS = 498
# (category, title stems, units: 0 = unlimited)
CATALOGUE: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {
    pb.CATEGORY_LAB_EQUIPMENT: (
        ("检测实验室", "公共仪器平台", "中试车间", "洁净间", "材料分析测试中心", "电镜共享机时"),
        (1, 2, 3, 5),
    ),
    pb.CATEGORY_SPACE_VENUE: (
        ("路演厅", "共享办公工位", "会议室", "展示厅", "孵化办公室"),
        (1, 3, 10, 20),
    ),
    pb.CATEGORY_EXPERT_MENTOR: (
        ("创业导师辅导", "技术专家问诊", "知识产权顾问", "产业链专家对接"),
        (2, 4, 8),
    ),
    pb.CATEGORY_FINANCE_INVESTMENT: (
        ("天使投资对接会", "科技信贷咨询", "股权融资路演", "政府引导基金申报辅导"),
        (0,),
    ),
    pb.CATEGORY_POLICY_GOVERNMENT: (
        ("高新技术企业认定辅导", "科技项目申报指导", "人才政策咨询", "工商注册代办"),
        (0,),
    ),
    pb.CATEGORY_TALENT_TRAINING: (
        ("工程师实训营", "创业训练营", "技能培训班", "校企联合招聘会"),
        (20, 30, 50),
    ),
}
CHAIN_WORDS = {
    1: "冶金新材料",
    2: "生物医药",
    3: "高端纺织",
    4: "智能装备",
    5: "新能源",
    6: "集成电路",
    7: "数字经济",
    8: "港口物流",
}


def demo_resources(carrier: DemoCarrier, count: int) -> list[pb.Resource]:
    """The carrier's items, without owner and name; the same every time."""
    rng = random.Random(f"items-{carrier.key}")
    categories = sorted(CATALOGUE)
    items = []
    for index in range(count):
        category = categories[index % len(categories)]
        stems, units = CATALOGUE[category]
        chain = rng.choice(carrier.chains)
        stem = rng.choice(stems)
        items.append(
            pb.Resource(
                category=category,  # type: ignore[arg-type]
                title=f"{carrier.name}·{CHAIN_WORDS[chain]}{stem}（{index + 1:02d}）",
                description=(
                    f"{carrier.city}{carrier.name}面向联盟成员开放的{CHAIN_WORDS[chain]}"
                    f"{stem}服务，一键预约。"
                ),
                industrial_chains=[chain],
                capacity=rng.choice(units),
                visibility=pb.VISIBILITY_ALLIANCE if rng.random() < 0.9 else pb.VISIBILITY_REGION,
                terms=pb.Terms(free=True) if rng.random() < 0.7 else pb.Terms(price_fen=50_000),
                state=pb.RESOURCE_STATE_PUBLISHED,
            )
        )
    return items


def load(
    membership: dict[str, GrpcTarget],
    sharing: dict[str, GrpcTarget],
    token_for: Callable[[str], str],
    progress: Callable[[str], None] = lambda _line: None,
    wait_s: float = 60,
) -> int:
    """Loads every item; returns how many there are."""
    per_carrier = [
        ITEMS // len(CARRIERS) + (1 if i < ITEMS % len(CARRIERS) else 0)
        for i in range(len(CARRIERS))
    ]
    loaded = 0
    for region in sorted({c.region for c in CARRIERS} & sharing.keys()):
        md = (("authorization", f"Bearer {token_for(region)}"),)
        names = carrier_names(membership[region], region, token_for(region))
        with sharing[region].channel() as channel:
            stub = pb_grpc.SharingServiceStub(channel)
            for index, carrier in enumerate(CARRIERS):
                if carrier.region != region:
                    continue
                for item_index, item in enumerate(demo_resources(carrier, per_carrier[index])):
                    item.owner = names[carrier.name]
                    _create(
                        stub,
                        md,
                        region,
                        item,
                        request_id("item", carrier.key, str(item_index)),
                        wait_s,
                    )
                    loaded += 1
                progress(f"{region}: {carrier.name}: {per_carrier[index]} service items")
    return loaded


def _create(
    stub: pb_grpc.SharingServiceStub,
    md: tuple[tuple[str, str], ...],
    region: str,
    item: pb.Resource,
    rid: str,
    wait_s: float,
) -> None:
    """Retries while sharing has not yet heard of the owner from membership's events."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            stub.CreateResource(
                pb.CreateResourceRequest(parent=f"regions/{region}", resource=item, request_id=rid),
                metadata=md,
                timeout=10,
            )
            return
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            if code != grpc.StatusCode.FAILED_PRECONDITION or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
