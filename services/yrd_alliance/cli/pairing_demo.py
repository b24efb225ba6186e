"""The article's pairing round as demo data: 40 volunteer lawyers of the three regions, paired
four to each of the 10 demo carriers by a round that Zhangjiagang's operator opens and publishes,
and a legal check-up recorded for every one of the carriers' 230 startups. Loaded through the
public API with deterministic request ids, so loading twice changes nothing."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.pairing.v1 import pairing_pb2_grpc as pb_grpc
from alliance.type.v1 import types_pb2 as types

from yrd_alliance.cli.demo import CARRIERS, STARTUPS_PER_CARRIER, carrier_names, request_id
from yrd_alliance.deployment.channels import GrpcTarget

LAWYERS = 40
ROUND_REGION = "zjg"  # the alliance was founded in Zhangjiagang
REGIONS = ("sh", "hz", "zjg")  # the demo needs all three
FIRMS = (
    "锦天城律师事务所",
    "国浩律师事务所",
    "大成律师事务所",
    "金杜律师事务所",
    "天册律师事务所",
    "六和律师事务所",
    "张家港港城律师事务所",
    "江苏梁丰律师事务所",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = ("敏", "静", "磊", "婷", "军", "洁", "涛", "颖", "峰", "琳", "斌", "霞")
SEVERITIES = (pb.SEVERITY_LOW, pb.SEVERITY_MEDIUM, pb.SEVERITY_HIGH)
_AREAS = [a for a in types.LegalArea.values() if a != types.LEGAL_AREA_UNSPECIFIED]

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Targets:
    membership: dict[str, GrpcTarget]  # region → its service
    pairing: dict[str, GrpcTarget]


def demo_lawyers() -> list[tuple[str, pb.Lawyer]]:
    """(home region, lawyer) for the 40 volunteers: varied firms, specialties and languages."""
    rng = random.Random("yrd-lawyers")
    regions = [c.region for c in CARRIERS] * 4  # as many lawyers in a region as carrier slots
    lawyers = []
    for index, region in enumerate(regions[:LAWYERS]):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + ("" if index % 3 else rng.choice(GIVEN))
        lawyers.append(
            (
                region,
                pb.Lawyer(
                    display_name=f"{name}律师",
                    firm=rng.choice(FIRMS),
                    specialties=sorted(rng.sample(_AREAS, rng.randint(1, 3))),
                    languages=["zh", "en"] if rng.random() < 0.3 else ["zh"],
                ),
            )
        )
    return lawyers


def load(
    targets: Targets,
    token_for: Callable[[str], str],
    lawyer_token: Callable[[str], str],
    progress: Callable[[str], None] = lambda _line: None,
) -> tuple[int, int]:
    """Loads lawyers, the published round and the check-ups; returns (pairs, check-ups)."""
    for index, (region, lawyer) in enumerate(demo_lawyers()):
        with targets.pairing[region].channel() as channel:
            pb_grpc.PairingServiceStub(channel).CreateLawyer(
                pb.CreateLawyerRequest(
                    parent=f"regions/{region}",
                    lawyer=lawyer,
                    request_id=request_id("lawyer", str(index)),
                ),
                metadata=_auth(token_for(region)),
                timeout=10,
            )
    progress(f"{LAWYERS} volunteer lawyers")
    with targets.pairing[ROUND_REGION].channel() as channel:
        stub = pb_grpc.PairingServiceStub(channel)
        md = _auth(token_for(ROUND_REGION))
        _wait_for_directory(stub, md)
        round_ = _publish_round(stub, md, _carrier_names(targets, token_for))
        progress(f"round {round_.name}: {len(round_.plan.pairs)} pairs published")
        checkups = _checkups(stub, md, round_, targets, token_for, lawyer_token)
        progress(f"{checkups} legal check-ups recorded")
    return len(round_.plan.pairs), checkups


def _auth(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def _carrier_names(targets: Targets, token_for: Callable[[str], str]) -> list[str]:
    return sorted(
        name
        for region, target in targets.membership.items()
        for name in carrier_names(target, region, token_for(region)).values()
    )


def _wait_for_directory(stub: pb_grpc.PairingServiceStub, md: Metadata, wait_s: float = 60) -> None:
    """Until the round's region has every carrier, startup and lawyer from the others' events."""
    deadline = time.monotonic() + wait_s
    want = (len(CARRIERS), len(CARRIERS) * STARTUPS_PER_CARRIER, LAWYERS)
    while True:
        stats = stub.GetPairingStats(
            pb.GetPairingStatsRequest(parent=f"regions/{ROUND_REGION}"), metadata=md, timeout=10
        )
        lawyers = stub.ListLawyers(
            pb.ListLawyersRequest(parent="regions/-", page_size=1000), metadata=md, timeout=10
        )
        have = (stats.directory_carriers, stats.directory_startups, len(lawyers.lawyers))
        if all(h >= w for h, w in zip(have, want, strict=True)):
            return
        if time.monotonic() > deadline:
            raise SystemExit(
                f"{ROUND_REGION} knows {have[0]} carriers, {have[1]} startups and {have[2]} "
                f"lawyers after {wait_s:.0f} s; expected {want}. Is federation replicating?"
            )
        time.sleep(0.2)


def _publish_round(stub: pb_grpc.PairingServiceStub, md: Metadata, carriers: list[str]) -> pb.Round:
    round_ = stub.CreateRound(
        pb.CreateRoundRequest(
            parent=f"regions/{ROUND_REGION}",
            request_id=request_id("round", "2024-first"),
            round=pb.Round(
                display_name="长三角党员律师与孵化载体一对一挂钩（第一轮）",
                mode=pb.PAIRING_MODE_OPTIMAL,
                carriers=[pb.RoundCarrier(carrier=c, slots=4) for c in carriers],
                require_full=True,
            ),
        ),
        metadata=md,
        timeout=30,
    )
    if round_.state == pb.ROUND_STATE_DRAFT:
        round_ = stub.PublishRound(pb.PublishRoundRequest(name=round_.name), metadata=md)
    return round_


def _checkups(
    stub: pb_grpc.PairingServiceStub,
    md: Metadata,
    round_: pb.Round,
    targets: Targets,
    token_for: Callable[[str], str],
    lawyer_token: Callable[[str], str],
) -> int:
    lawyers_of: dict[str, list[str]] = {}
    for pair in round_.plan.pairs:
        lawyers_of.setdefault(pair.carrier, []).append(pair.lawyer)
    recorded = 0
    for carrier, lawyers in sorted(lawyers_of.items()):
        region = carrier.split("/")[1]
        with targets.membership[region].channel() as channel:
            startups = mpb_grpc.MembershipServiceStub(channel).ListStartups(
                mpb.ListStartupsRequest(parent=carrier, page_size=1000),
                metadata=_auth(token_for(region)),
                timeout=10,
            )
        for index, startup in enumerate(startups.startups):
            lawyer = lawyers[index % len(lawyers)]
            checkup = stub.BookCheckup(
                pb.BookCheckupRequest(
                    parent=f"regions/{ROUND_REGION}",
                    checkup=pb.Checkup(lawyer=lawyer, startup=startup.name),
                    request_id=request_id("checkup", startup.name),
                ),
                metadata=md,
                timeout=10,
            )
            if checkup.state == pb.CHECKUP_STATE_BOOKED:
                rng = random.Random(startup.name)
                areas = list(startup.legal_needs) or [types.LEGAL_AREA_CORPORATE]
                stub.RecordCheckupOutcome(
                    pb.RecordCheckupOutcomeRequest(
                        name=checkup.name,
                        findings=[
                            pb.Finding(
                                area=a, severity=rng.choice(SEVERITIES), note="已出具法律意见"
                            )
                            for a in areas[: rng.randint(1, len(areas))]
                        ],
                        follow_up="三个月内回访",
                    ),
                    metadata=_auth(lawyer_token(lawyer)),
                    timeout=10,
                )
            recorded += 1
    return recorded
