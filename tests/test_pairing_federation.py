"""Pairing across regions: Zhangjiagang's operator pairs lawyers of Shanghai and Hangzhou with
carriers of every region, knowing them only from replicated events; a Shanghai carrier then books
a check-up in Zhangjiagang, where its assignment lives."""

from __future__ import annotations

from typing import Any

import grpc
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.pairing.v1 import pairing_pb2 as pb

from tests.conftest import Tokens, auth
from tests.helpers import expect_error
from tests.test_pairing_api import lawyer, wait_until_known


async def test_a_round_in_one_region_pairs_lawyers_and_carriers_of_the_others(
    federation: Any,
) -> None:
    stubs = {r: await federation.start_pairing(r) for r in ("sh", "hz", "zjg")}
    carriers = {r: await federation.create_carriers(r, 2) for r in ("sh", "hz", "zjg")}
    sh_startup = await federation.regions["sh"].stub.CreateStartup(
        mpb.CreateStartupRequest(
            parent=carriers["sh"][0],
            startup=mpb.Startup(display_name="上海芯科技", legal_needs=[2]),
        ),
        metadata=auth(Tokens("sh").operator()),
    )
    lawyers = []
    for i, region in enumerate(["sh", "sh", "hz", "hz", "zjg", "zjg"]):
        created = await stubs[region].CreateLawyer(
            pb.CreateLawyerRequest(parent=f"regions/{region}", lawyer=lawyer(i, specialties=[2])),
            metadata=auth(Tokens(region).operator()),
        )
        lawyers.append(created.name)
    zjg, op = stubs["zjg"], auth(Tokens("zjg").operator())
    every_carrier = [c for names in carriers.values() for c in names]
    await wait_until_known(zjg, op, "zjg", carriers=6, startups=1, lawyers=6)

    draft = await zjg.CreateRound(
        pb.CreateRoundRequest(
            parent="regions/zjg",
            round=pb.Round(
                display_name="跨区域结对",
                mode=pb.PAIRING_MODE_OPTIMAL,
                carriers=[pb.RoundCarrier(carrier=c, slots=1) for c in every_carrier],
            ),
        ),
        metadata=op,
    )
    assert {p.lawyer for p in draft.plan.pairs} == set(lawyers)
    assert {p.carrier for p in draft.plan.pairs} == set(every_carrier)
    same_region = [p for p in draft.plan.pairs if p.breakdown.region]
    assert len(same_region) == 6, "with equal specialties, everyone pairs within the region"
    await zjg.PublishRound(pb.PublishRoundRequest(name=draft.name), metadata=op)

    # a write for a lawyer whose home is elsewhere is refused, naming the home
    sh_lawyer = await zjg.GetLawyer(pb.GetLawyerRequest(name=lawyers[0]), metadata=op)
    error = await expect_error(
        zjg.UpdateLawyer(
            pb.UpdateLawyerRequest(
                lawyer=pb.Lawyer(name=sh_lawyer.name, firm="通力律师事务所"),
                update_mask={"paths": ["firm"]},
            ),
            metadata=op,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "region sh" in (error.details() or "")

    paired = next(p.lawyer for p in draft.plan.pairs if p.carrier == carriers["sh"][0])
    booked = await zjg.BookCheckup(
        pb.BookCheckupRequest(
            parent="regions/zjg", checkup=pb.Checkup(lawyer=paired, startup=sh_startup.name)
        ),
        metadata=auth(Tokens("zjg").carrier(carriers["sh"][0])),
    )
    assert booked.carrier == carriers["sh"][0] and booked.name.startswith("regions/zjg/")
