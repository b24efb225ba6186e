"""Pairing's use cases on in-memory ports: lawyers, rounds from draft to replan, check-ups and
stats, with every refusal checked to have changed nothing."""

from __future__ import annotations

import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.pairing.v1 import pairing_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.kernel.errors import (
    EtagMismatch,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from yrd_alliance.kernel.memory import MemoryStore
from yrd_alliance.kernel.names import new_id
from yrd_alliance.pairing.checkups import Checkups
from yrd_alliance.pairing.lawyers import Lawyers
from yrd_alliance.pairing.rounds import Rounds
from yrd_alliance.pairing.store import ASSIGNMENTS, DIRECTORY_CARRIERS, DIRECTORY_STARTUPS, LAWYERS

from tests.use_cases import PARTNER, acting_for, lawyer_token, operator, ports, refused, verbs

SH = operator("sh")


class Region:
    def __init__(self) -> None:
        self.store = MemoryStore()
        p = ports(self.store, "sh", "pairing")
        self.lawyers, self.rounds, self.checkups = Lawyers(p), Rounds(p), Checkups(p)

    def carrier(self, *needs: list[int], active: bool = True) -> str:
        """A carrier in the directory, with a startup per list of legal needs."""
        name = f"regions/sh/carriers/{new_id()}"
        state = mpb.CARRIER_STATE_ACTIVE if active else mpb.CARRIER_STATE_SUSPENDED
        self.store.rows(DIRECTORY_CARRIERS).put(
            mpb.Carrier(name=name, display_name="载体", state=state), 1
        )
        for need in needs:
            startup = mpb.Startup(name=f"{name}/startups/{new_id()}", legal_needs=need)
            self.store.rows(DIRECTORY_STARTUPS).put(startup, 1)
        return name

    def startups_of(self, carrier: str) -> list[str]:
        rows = self.store.rows(DIRECTORY_STARTUPS).columns(
            DIRECTORY_STARTUPS.where(carrier=carrier)
        )
        return [row["name"] for row in rows]

    async def lawyer(self, *specialties: int, **fields: object) -> pb.Lawyer:
        lawyer = pb.Lawyer(
            display_name="王律师", firm="锦天城律师事务所", specialties=specialties, **fields
        )
        request = pb.CreateLawyerRequest(parent="regions/sh", lawyer=lawyer)
        return await self.lawyers.create_lawyer(request, SH)

    async def published_round(self, carriers: list[str], **fields: object) -> pb.Round:
        round_ = pb.Round(
            display_name="第一轮",
            mode=pb.PAIRING_MODE_OPTIMAL,
            carriers=[pb.RoundCarrier(carrier=c, slots=1) for c in carriers],
            **fields,
        )
        draft = await self.rounds.create_round(
            pb.CreateRoundRequest(parent="regions/sh", round=round_), SH
        )
        request = pb.PublishRoundRequest(name=draft.name, etag=draft.etag)
        return await self.rounds.publish_round(request, SH)


@pytest.fixture
def region() -> Region:
    return Region()


async def test_lawyers_are_registered_by_operators_and_keep_their_own_profile(
    region: Region,
) -> None:
    lawyer = await region.lawyer(1, 5)
    assert (lawyer.capacity, list(lawyer.languages)) == (1, ["zh"]), "defaults filled"
    assert verbs(region.store) == ["lawyer.registered"]
    bad = pb.CreateLawyerRequest(parent="regions/sh", lawyer=pb.Lawyer(display_name="x"))
    error = await refused(region.store, region.lawyers.create_lawyer(bad, SH), InvalidArgument)
    assert {"lawyer.firm", "lawyer.specialties"} <= {v.field for v in error.violations}  # type: ignore[attr-defined]
    good = pb.CreateLawyerRequest(parent="regions/sh", lawyer=lawyer)
    await refused(region.store, region.lawyers.create_lawyer(good, PARTNER), PermissionDenied)
    await refused(
        region.store, region.lawyers.create_lawyer(good, operator("hz")), PermissionDenied
    )

    own = lawyer_token(lawyer.name)
    firm = pb.UpdateLawyerRequest(
        lawyer=pb.Lawyer(name=lawyer.name, firm="金杜律师事务所", etag=lawyer.etag),
        update_mask=FieldMask(paths=["firm"]),
    )
    updated = await region.lawyers.update_lawyer(firm, own)
    assert updated.firm == "金杜律师事务所"
    await refused(region.store, region.lawyers.update_lawyer(firm, own), EtagMismatch)
    more = pb.UpdateLawyerRequest(
        lawyer=pb.Lawyer(name=lawyer.name, capacity=5), update_mask=FieldMask(paths=["capacity"])
    )
    await refused(region.store, region.lawyers.update_lawyer(more, own), PermissionDenied)
    other = lawyer_token((await region.lawyer(2)).name)
    await refused(region.store, region.lawyers.update_lawyer(firm, other), PermissionDenied)

    listed = pb.ListLawyersResponse.FromString(
        region.lawyers.list_lawyers(pb.ListLawyersRequest(parent="regions/-", specialty=5), PARTNER)
    )
    assert [x.name for x in listed.lawyers] == [lawyer.name]
    got = region.lawyers.get_lawyer(pb.GetLawyerRequest(name=lawyer.name), PARTNER)
    assert got.firm == "金杜律师事务所"


async def test_a_round_is_planned_published_and_replanned_when_a_lawyer_leaves(
    region: Region,
) -> None:
    carriers = [region.carrier([1], [2]), region.carrier([3])]
    first, second = await region.lawyer(1, 2), await region.lawyer(3)
    missing = pb.CreateRoundRequest(
        parent="regions/sh",
        round=pb.Round(
            display_name="r",
            mode=pb.PAIRING_MODE_OPTIMAL,
            carriers=[pb.RoundCarrier(carrier=f"regions/sh/carriers/{new_id()}")],
        ),
    )
    await refused(region.store, region.rounds.create_round(missing, SH), FailedPrecondition)

    round_ = await region.published_round(carriers)
    pairs = {(p.lawyer, p.carrier) for p in round_.plan.pairs}
    assert pairs == {(first.name, carriers[0]), (second.name, carriers[1])}, "best specialties"
    assert verbs(region.store)[-3:] == [
        "assignment.started",
        "assignment.started",
        "round.published",
    ]
    again = pb.PublishRoundRequest(name=round_.name)
    await refused(region.store, region.rounds.publish_round(again, SH), FailedPrecondition)

    leave = pb.UpdateLawyerRequest(
        lawyer=pb.Lawyer(name=second.name, state=pb.LAWYER_STATE_LEFT),
        update_mask=FieldMask(paths=["state"]),
    )
    await region.lawyers.update_lawyer(leave, SH)
    replan = pb.ReplanRoundRequest(name=round_.name, etag=round_.etag)
    response = await region.rounds.replan_round(replan, SH)
    [change] = response.changes
    assert (change.kind, change.lawyer, change.reason) == (
        pb.PairChange.KIND_REMOVED,
        second.name,
        "the lawyer is left",
    )
    active = region.store.rows(ASSIGNMENTS).select(
        ASSIGNMENTS.where(round=round_.name, state=pb.ASSIGNMENT_STATE_ACTIVE)
    )
    assert [a.message.lawyer for a in active] == [first.name]
    rounds = pb.ListRoundsResponse.FromString(
        region.rounds.list_rounds(pb.ListRoundsRequest(parent="regions/sh"), PARTNER)
    )
    assert [r.name for r in rounds.rounds] == [round_.name]
    assert region.rounds.get_round(pb.GetRoundRequest(name=round_.name), PARTNER).plan == (
        response.round.plan
    )
    mine = pb.ListAssignmentsResponse.FromString(
        region.rounds.list_assignments(
            pb.ListAssignmentsRequest(parent="regions/sh/rounds/-"), lawyer_token(second.name)
        )
    )
    assert [(a.lawyer, a.state) for a in mine.assignments] == [
        (second.name, pb.ASSIGNMENT_STATE_ENDED)
    ], "a lawyer sees only its own assignments"
    with pytest.raises(NotFound):  # rounds stay in their home region
        region.rounds.get_round(pb.GetRoundRequest(name=round_.name.replace("/sh/", "/hz/")), SH)


async def test_a_checkup_is_booked_with_a_paired_lawyer_and_closed_by_that_lawyer(
    region: Region,
) -> None:
    carrier = region.carrier([1])
    startup = region.startups_of(carrier)[0]
    lawyer = await region.lawyer(1)
    unpaired = await region.lawyer(1, conflicts=[startup])
    await region.published_round([carrier], lawyers=[lawyer.name])
    book = pb.BookCheckupRequest(
        parent="regions/sh", checkup=pb.Checkup(lawyer=lawyer.name, startup=startup)
    )
    other_carrier = acting_for(region.carrier([2]))
    await refused(region.store, region.checkups.book_checkup(book, other_carrier), PermissionDenied)
    conflicted = pb.BookCheckupRequest(
        parent="regions/sh", checkup=pb.Checkup(lawyer=unpaired.name, startup=startup)
    )
    await refused(region.store, region.checkups.book_checkup(conflicted, SH), FailedPrecondition)
    checkup = await region.checkups.book_checkup(book, acting_for(carrier))
    assert (checkup.carrier, checkup.state) == (carrier, pb.CHECKUP_STATE_BOOKED)

    outcome = pb.RecordCheckupOutcomeRequest(
        name=checkup.name,
        findings=[pb.Finding(area=1, severity=pb.SEVERITY_HIGH, note="合同条款缺失")],
    )
    await refused(region.store, region.checkups.record_outcome(outcome, SH), PermissionDenied)
    done = await region.checkups.record_outcome(outcome, lawyer_token(lawyer.name))
    assert done.state == pb.CHECKUP_STATE_COMPLETED
    await refused(
        region.store,
        region.checkups.record_outcome(outcome, lawyer_token(lawyer.name)),
        FailedPrecondition,
    )
    listed = pb.ListCheckupsResponse.FromString(
        region.checkups.list_checkups(
            pb.ListCheckupsRequest(parent="regions/sh"), acting_for(carrier)
        )
    )
    assert [c.name for c in listed.checkups] == [checkup.name]
    with pytest.raises(PermissionDenied):  # another carrier reads no one else's findings
        region.checkups.get_checkup(pb.GetCheckupRequest(name=checkup.name), other_carrier)

    stats = region.checkups.stats(pb.GetPairingStatsRequest(parent="regions/sh"), PARTNER)
    assert (stats.checkups_booked, stats.checkups_completed, stats.startups_served) == (1, 1, 1)
    assert (stats.directory_carriers, stats.directory_startups) == (2, 2)
    assert [(c.key, c.count) for c in stats.findings_by_area] == [("LEGAL_AREA_CORPORATE", 1)]
    assert region.store.rows(LAWYERS).count(LAWYERS.where()) == 2


async def test_a_lawyer_or_carrier_no_longer_active_cannot_act_with_its_token(
    region: Region,
) -> None:
    carrier = region.carrier([1])
    startup = region.startups_of(carrier)[0]
    lawyer = await region.lawyer(1)
    await region.published_round([carrier], lawyers=[lawyer.name])
    book = pb.BookCheckupRequest(
        parent="regions/sh", checkup=pb.Checkup(lawyer=lawyer.name, startup=startup)
    )
    checkup = await region.checkups.book_checkup(book, acting_for(carrier))
    leave = pb.UpdateLawyerRequest(
        lawyer=pb.Lawyer(name=lawyer.name, state=pb.LAWYER_STATE_LEFT),
        update_mask=FieldMask(paths=["state"]),
    )
    await region.lawyers.update_lawyer(leave, SH)
    outcome = pb.RecordCheckupOutcomeRequest(name=checkup.name)
    error = await refused(
        region.store,
        region.checkups.record_outcome(outcome, lawyer_token(lawyer.name)),
        PermissionDenied,
    )
    assert "LAWYER_STATE_LEFT" in error.message
    firm = pb.UpdateLawyerRequest(
        lawyer=pb.Lawyer(name=lawyer.name, firm="x"), update_mask=FieldMask(paths=["firm"])
    )
    await refused(
        region.store,
        region.lawyers.update_lawyer(firm, lawyer_token(lawyer.name)),
        PermissionDenied,
    )

    suspended = mpb.Carrier(name=carrier, display_name="载体", state=mpb.CARRIER_STATE_SUSPENDED)
    region.store.rows(DIRECTORY_CARRIERS).put(suspended, 2)  # as its event would
    await refused(
        region.store, region.checkups.book_checkup(book, acting_for(carrier)), PermissionDenied
    )
