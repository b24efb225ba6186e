"""Pairing over real gRPC and NATS: membership's carrier and startup events feed pairing's
directory; rounds are solved, published and replanned; check-ups are booked by carriers and
recorded only by the paired lawyer."""

from __future__ import annotations

import uuid
from collections import Counter

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.pairing.v1 import pairing_pb2_grpc as pairing_grpc

from tests.conftest import PairingRegion, auth, read_events, read_rows
from tests.helpers import eventually, expect_error, expect_invalid

SPECIALTIES = [[1, 5], [2], [3, 6], [4, 1], [7, 2], [8], [9, 5], [2, 4]]
NEEDS = [[2, 4], [2], [3], [1, 5], [7], [4, 8], [9], [6, 3]]


def lawyer(i: int, **fields: object) -> pb.Lawyer:
    values: dict[str, object] = {
        "display_name": f"律师{i:02d}",
        "firm": ["锦天城律师事务所", "大成律师事务所", "金杜律师事务所"][i % 3],
        "specialties": SPECIALTIES[i % len(SPECIALTIES)],
        "languages": ["zh", "en"] if i % 4 == 0 else ["zh"],
    }
    values.update(fields)
    return pb.Lawyer(**values)  # type: ignore[arg-type]


async def create_lawyer(region: PairingRegion, i: int, **fields: object) -> pb.Lawyer:
    return await region.stub.CreateLawyer(
        pb.CreateLawyerRequest(
            parent=f"regions/{region.region}",
            lawyer=lawyer(i, **fields),
            request_id=str(uuid.uuid4()),
        ),
        metadata=region.op,
    )


async def wait_until_known(
    stub: pairing_grpc.PairingServiceStub,
    md: tuple[tuple[str, str], ...],
    region: str,
    *,
    carriers: int,
    startups: int,
    lawyers: int = 0,
) -> None:
    """Until the region's pairing has applied the events of that many carriers, startups and
    lawyers (they travel over NATS)."""

    async def known() -> tuple[int, int, int]:
        stats = await stub.GetPairingStats(
            pb.GetPairingStatsRequest(parent=f"regions/{region}"), metadata=md
        )
        listed = await stub.ListLawyers(
            pb.ListLawyersRequest(parent="regions/-", page_size=1000), metadata=md
        )
        return stats.directory_carriers, stats.directory_startups, len(listed.lawyers)

    await eventually(
        known,
        lambda have: all(h >= w for h, w in zip(have, (carriers, startups, lawyers), strict=True)),
        f"{region}'s directory",
    )


async def seed(
    region: PairingRegion, carriers: int = 10, lawyers: int = 40
) -> tuple[list[str], list[pb.Lawyer], dict[str, list[str]]]:
    names, startups = [], {}
    for j in range(carriers):
        carrier = await region.members.create_carrier(display_name=f"孵化器{j:02d}")
        names.append(carrier.name)
        startups[carrier.name] = []
        for k in range(3):
            startup = await region.members.stub.CreateStartup(
                mpb.CreateStartupRequest(
                    parent=carrier.name,
                    startup=mpb.Startup(
                        display_name=f"初创{j}-{k}", legal_needs=NEEDS[(j + k) % len(NEEDS)]
                    ),
                ),
                metadata=region.op,
            )
            startups[carrier.name].append(startup.name)
    people = [await create_lawyer(region, i) for i in range(lawyers)]
    await wait_until_known(
        region.stub, region.op, region.region, carriers=carriers, startups=carriers * 3
    )
    return names, people, startups


def round_of(
    carriers: list[str], mode: int = pb.PAIRING_MODE_OPTIMAL, **fields: object
) -> pb.Round:
    return pb.Round(
        display_name="第一轮党员律师结对",
        mode=mode,  # type: ignore[arg-type]
        carriers=[pb.RoundCarrier(carrier=c) for c in carriers],
        **fields,  # type: ignore[arg-type]
    )


async def create_round(region: PairingRegion, round_: pb.Round) -> pb.Round:
    return await region.stub.CreateRound(
        pb.CreateRoundRequest(parent=f"regions/{region.region}", round=round_),
        metadata=region.op,
    )


async def active_pairs(region: PairingRegion, round_name: str) -> dict[tuple[str, str], str]:
    reply = await region.stub.ListAssignments(
        pb.ListAssignmentsRequest(
            parent=round_name, state=pb.ASSIGNMENT_STATE_ACTIVE, page_size=1000
        ),
        metadata=region.op,
    )
    return {(a.lawyer, a.carrier): a.name for a in reply.assignments}


@pytest.mark.parametrize("mode", [pb.PAIRING_MODE_OPTIMAL, pb.PAIRING_MODE_STABLE])
async def test_a_round_pairs_four_lawyers_with_each_of_ten_carriers_and_publishes_them(
    pairing: PairingRegion, mode: int
) -> None:
    carriers, lawyers, _ = await seed(pairing)
    draft = await create_round(pairing, round_of(carriers, mode))
    assert draft.state == pb.ROUND_STATE_DRAFT
    assert Counter(p.carrier for p in draft.plan.pairs) == {c: 4 for c in carriers}
    assert Counter(p.lawyer for p in draft.plan.pairs) == {x.name: 1 for x in lawyers}
    assert draft.plan.total_score == sum(p.score for p in draft.plan.pairs) > 0
    for pair in draft.plan.pairs:
        b = pair.breakdown
        assert pair.score == b.focus + b.breadth + b.region + b.language
        assert pair.explanation.startswith("covers")
    if mode == pb.PAIRING_MODE_STABLE:
        assert draft.plan.fairness.blocking_pair_count == 0
    assert not await active_pairs(pairing, draft.name), "a draft starts no assignment"

    published = await pairing.stub.PublishRound(
        pb.PublishRoundRequest(name=draft.name, etag=draft.etag), metadata=pairing.op
    )
    assert published.state == pb.ROUND_STATE_PUBLISHED
    assert set(await active_pairs(pairing, draft.name)) == {
        (p.lawyer, p.carrier) for p in draft.plan.pairs
    }
    await expect_error(
        pairing.stub.PublishRound(pb.PublishRoundRequest(name=draft.name), metadata=pairing.op),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    events = await read_events(pairing.members.nats_url, pairing.region, expected=121)
    pairing_types = Counter(
        e.type.rsplit(".", 1)[-1] for e in events if e.source.endswith("/pairing")
    )
    assert pairing_types == {"LawyerRegistered": 40, "AssignmentStarted": 40, "RoundPublished": 1}


async def test_replanning_after_a_lawyer_leaves_changes_only_that_pair(
    pairing: PairingRegion,
) -> None:
    carriers, lawyers, _ = await seed(pairing, lawyers=41)  # one spare
    draft = await create_round(pairing, round_of(carriers))
    round_ = await pairing.stub.PublishRound(
        pb.PublishRoundRequest(name=draft.name), metadata=pairing.op
    )
    before = await active_pairs(pairing, round_.name)
    leaving = draft.plan.pairs[0]
    current = await pairing.stub.GetLawyer(
        pb.GetLawyerRequest(name=leaving.lawyer), metadata=pairing.op
    )
    await pairing.stub.UpdateLawyer(
        pb.UpdateLawyerRequest(
            lawyer=pb.Lawyer(name=current.name, state=pb.LAWYER_STATE_LEFT, etag=current.etag),
            update_mask={"paths": ["state"]},
        ),
        metadata=pairing.op,
    )
    preview = await pairing.stub.ReplanRound(
        pb.ReplanRoundRequest(name=round_.name, validate_only=True, min_gain=1000),
        metadata=pairing.op,
    )
    removed = [c for c in preview.changes if c.kind == pb.PairChange.KIND_REMOVED]
    added = [c for c in preview.changes if c.kind == pb.PairChange.KIND_ADDED]
    assert [(c.lawyer, c.carrier) for c in removed] == [(leaving.lawyer, leaving.carrier)]
    assert "left" in removed[0].reason
    assert len(added) == 1 and added[0].carrier == leaving.carrier
    assert preview.kept_pairs == 39
    assert await active_pairs(pairing, round_.name) == before, "validate_only changes nothing"

    applied = await pairing.stub.ReplanRound(
        pb.ReplanRoundRequest(name=round_.name, min_gain=1000), metadata=pairing.op
    )
    assert list(applied.changes) == list(preview.changes)
    after = await active_pairs(pairing, round_.name)
    kept = {pair: name for pair, name in before.items() if pair[0] != leaving.lawyer}
    assert {pair: after[pair] for pair in kept} == kept, "kept pairs keep their assignment"
    assert (added[0].lawyer, added[0].carrier) in after and len(after) == 40
    ended = await pairing.stub.ListAssignments(
        pb.ListAssignmentsRequest(parent=round_.name, state=pb.ASSIGNMENT_STATE_ENDED),
        metadata=pairing.op,
    )
    assert [(a.lawyer, a.end_reason) for a in ended.assignments] == [
        (leaving.lawyer, removed[0].reason)
    ]
    assert lawyers  # the seed created them


async def test_checkups_are_booked_with_a_paired_lawyer_and_recorded_only_by_that_lawyer(
    pairing: PairingRegion,
) -> None:
    carriers, _, startups = await seed(pairing, carriers=2, lawyers=8)
    draft = await create_round(pairing, round_of(carriers))
    await pairing.stub.PublishRound(pb.PublishRoundRequest(name=draft.name), metadata=pairing.op)
    carrier = carriers[0]
    mine = [p.lawyer for p in draft.plan.pairs if p.carrier == carrier]
    others = [p.lawyer for p in draft.plan.pairs if p.carrier != carrier]
    as_carrier = auth(pairing.tokens.carrier(carrier))
    parent = f"regions/{pairing.region}"

    def booking(lawyer_name: str, startup: str) -> pb.BookCheckupRequest:
        return pb.BookCheckupRequest(
            parent=parent, checkup=pb.Checkup(lawyer=lawyer_name, startup=startup)
        )

    await expect_error(
        pairing.stub.BookCheckup(booking(others[0], startups[carrier][0]), metadata=as_carrier),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    await expect_error(  # another carrier's startup
        pairing.stub.BookCheckup(booking(mine[0], startups[carriers[1]][0]), metadata=as_carrier),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    booked = await pairing.stub.BookCheckup(
        booking(mine[0], startups[carrier][0]), metadata=as_carrier
    )
    assert booked.state == pb.CHECKUP_STATE_BOOKED and booked.carrier == carrier
    outcome = pb.RecordCheckupOutcomeRequest(
        name=booked.name,
        findings=[pb.Finding(area=2, severity=pb.SEVERITY_HIGH, note="商标未注册")],
        follow_up="两周内提交商标申请",
    )
    for token in (pairing.tokens.lawyer(mine[1]), pairing.tokens.lawyer(others[0])):
        await expect_error(
            pairing.stub.RecordCheckupOutcome(outcome, metadata=auth(token)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    await expect_error(
        pairing.stub.RecordCheckupOutcome(outcome, metadata=pairing.op),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    as_lawyer = auth(pairing.tokens.lawyer(mine[0]))
    done = await pairing.stub.RecordCheckupOutcome(outcome, metadata=as_lawyer)
    assert done.state == pb.CHECKUP_STATE_COMPLETED and done.findings[0].note == "商标未注册"
    await expect_error(
        pairing.stub.RecordCheckupOutcome(outcome, metadata=as_lawyer),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    stats = await pairing.stub.GetPairingStats(
        pb.GetPairingStatsRequest(parent=parent), metadata=auth(pairing.tokens.partner())
    )
    assert (stats.checkups_booked, stats.checkups_completed, stats.startups_served) == (1, 1, 1)
    assert [(c.key, c.count) for c in stats.startups_served_by_carrier] == [(carrier, 1)]
    assert [(c.key, c.count) for c in stats.findings_by_area] == [
        ("LEGAL_AREA_INTELLECTUAL_PROPERTY", 1)
    ]
    # a carrier sees only its own check-ups
    other = auth(pairing.tokens.carrier(carriers[1]))
    listed = await pairing.stub.ListCheckups(pb.ListCheckupsRequest(parent=parent), metadata=other)
    assert not listed.checkups
    await expect_error(
        pairing.stub.GetCheckup(pb.GetCheckupRequest(name=booked.name), metadata=other),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_bad_input_names_the_fields_and_changes_nothing(pairing: PairingRegion) -> None:
    parent = f"regions/{pairing.region}"
    await expect_invalid(
        pairing.stub.CreateLawyer(
            pb.CreateLawyerRequest(parent=parent, lawyer=pb.Lawyer()), metadata=pairing.op
        ),
        "lawyer.display_name",
        "lawyer.firm",
        "lawyer.specialties",
    )
    await expect_invalid(
        pairing.stub.CreateLawyer(
            pb.CreateLawyerRequest(
                parent=parent,
                lawyer=lawyer(1, capacity=11, languages=["chinese"], conflicts=["acme"]),
            ),
            metadata=pairing.op,
        ),
        "lawyer.capacity",
        "lawyer.languages[0]",
        "lawyer.conflicts[0]",
    )
    carrier = f"regions/{pairing.region}/carriers/01JAAAAAAAAAAAAAAAAAAAAAAA"
    await expect_invalid(
        create_round(
            pairing,
            pb.Round(
                carriers=[pb.RoundCarrier(carrier=carrier, slots=11)] * 2,
                lawyers=["nobody"],
            ),
        ),
        "round.display_name",
        "round.mode",
        "round.carriers[1].carrier",
        "round.carriers[0].slots",
        "round.lawyers[0]",
    )
    await expect_invalid(
        pairing.stub.ReplanRound(
            pb.ReplanRoundRequest(name=f"{parent}/rounds/x"), metadata=pairing.op
        ),
        "name",
    )
    for table in ("lawyers", "rounds", "outbox", "idempotency_keys"):
        assert read_rows(pairing.database, f"SELECT count(*) FROM {table}")[0][0] == 0, table


async def test_rounds_that_cannot_be_planned_say_why(pairing: PairingRegion) -> None:
    carriers, _, _ = await seed(pairing, carriers=3, lawyers=5)
    error = await expect_error(
        create_round(pairing, round_of(carriers, require_full=True)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "5 lawyer places for 12 slots" in (error.details() or "")
    partial = await create_round(pairing, round_of(carriers))
    assert sum(u.count for u in partial.plan.unfilled_carriers) == 7
    unknown = f"regions/{pairing.region}/carriers/01JAAAAAAAAAAAAAAAAAAAAAAA"
    error = await expect_error(
        create_round(pairing, round_of([*carriers, unknown])),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert unknown in (error.details() or "")


@pytest.mark.parametrize(
    ("method", "role", "code"),
    [
        ("CreateLawyer", "carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateLawyer", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateLawyer", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateLawyer", "other-operator", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateRound", "carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateRound", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("CreateRound", "other-operator", grpc.StatusCode.PERMISSION_DENIED),
        ("UpdateLawyer", "other-lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("UpdateLawyer", "self-capacity", grpc.StatusCode.PERMISSION_DENIED),
        ("UpdateLawyer", "self", grpc.StatusCode.OK),
        ("ListLawyers", "partner", grpc.StatusCode.OK),
        ("ListLawyers", "none", grpc.StatusCode.UNAUTHENTICATED),
        ("GetPairingStats", "partner", grpc.StatusCode.OK),
        ("BookCheckup", "partner", grpc.StatusCode.PERMISSION_DENIED),
        ("BookCheckup", "lawyer", grpc.StatusCode.PERMISSION_DENIED),
        ("ListAssignments", "carrier", grpc.StatusCode.OK),
        ("ListAssignments", "carrier-asks-for-another", grpc.StatusCode.PERMISSION_DENIED),
        ("ListAssignments", "lawyer-asks-for-another", grpc.StatusCode.PERMISSION_DENIED),
        ("RecordCheckupOutcome", "operator", grpc.StatusCode.PERMISSION_DENIED),
        ("PublishRound", "carrier", grpc.StatusCode.PERMISSION_DENIED),
        ("ReplanRound", "partner", grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_authorisation(
    pairing: PairingRegion, method: str, role: str, code: grpc.StatusCode
) -> None:
    someone = await create_lawyer(pairing, 3)
    parent = f"regions/{pairing.region}"
    carrier = f"regions/{pairing.region}/carriers/01JAAAAAAAAAAAAAAAAAAAAAAA"
    tokens = pairing.tokens
    metadata = {
        "carrier": auth(tokens.carrier(carrier)),
        "partner": auth(tokens.partner()),
        "lawyer": auth(tokens.lawyer(someone.name)),
        "self": auth(tokens.lawyer(someone.name)),
        "self-capacity": auth(tokens.lawyer(someone.name)),
        "other-lawyer": auth(tokens.lawyer(f"{parent}/lawyers/01JBBBBBBBBBBBBBBBBBBBBBBB")),
        "other-operator": auth(tokens.operator("elsewhere")),
        "operator": pairing.op,
        "carrier-asks-for-another": auth(tokens.carrier(carrier)),
        "lawyer-asks-for-another": auth(tokens.lawyer(someone.name)),
        "none": (),
    }[role]
    someone_else = f"{parent}/lawyers/01JBBBBBBBBBBBBBBBBBBBBBBB"
    another_carrier = f"{parent}/carriers/01JDDDDDDDDDDDDDDDDDDDDDDD"
    round_name = f"{parent}/rounds/01JEEEEEEEEEEEEEEEEEEEEEEE"
    field = "capacity" if role == "self-capacity" else "firm"
    calls = {
        "CreateLawyer": lambda: pairing.stub.CreateLawyer(
            pb.CreateLawyerRequest(parent=parent, lawyer=lawyer(1)), metadata=metadata
        ),
        "CreateRound": lambda: create_round_as(pairing, round_of([carrier]), metadata),
        "UpdateLawyer": lambda: pairing.stub.UpdateLawyer(
            pb.UpdateLawyerRequest(
                lawyer=pb.Lawyer(name=someone.name, firm="通力律师事务所", capacity=2),
                update_mask={"paths": [field]},
            ),
            metadata=metadata,
        ),
        "ListLawyers": lambda: pairing.stub.ListLawyers(
            pb.ListLawyersRequest(parent="regions/-"), metadata=metadata
        ),
        "GetPairingStats": lambda: pairing.stub.GetPairingStats(
            pb.GetPairingStatsRequest(parent=parent), metadata=metadata
        ),
        "BookCheckup": lambda: pairing.stub.BookCheckup(
            pb.BookCheckupRequest(
                parent=parent,
                checkup=pb.Checkup(
                    lawyer=someone.name, startup=f"{carrier}/startups/01JCCCCCCCCCCCCCCCCCCCCCCC"
                ),
            ),
            metadata=metadata,
        ),
    }
    calls |= {
        "ListAssignments": lambda: pairing.stub.ListAssignments(
            pb.ListAssignmentsRequest(
                parent=f"{parent}/rounds/-",
                carrier=another_carrier if role == "carrier-asks-for-another" else "",
                lawyer=someone_else if role == "lawyer-asks-for-another" else "",
            ),
            metadata=metadata,
        ),
        "RecordCheckupOutcome": lambda: pairing.stub.RecordCheckupOutcome(
            pb.RecordCheckupOutcomeRequest(name=f"{parent}/checkups/01JFFFFFFFFFFFFFFFFFFFFFFF"),
            metadata=metadata,
        ),
        "PublishRound": lambda: pairing.stub.PublishRound(
            pb.PublishRoundRequest(name=round_name), metadata=metadata
        ),
        "ReplanRound": lambda: pairing.stub.ReplanRound(
            pb.ReplanRoundRequest(name=round_name), metadata=metadata
        ),
    }
    if code == grpc.StatusCode.OK:
        await calls[method]()
    else:
        await expect_error(calls[method](), code)


async def create_round_as(
    region: PairingRegion, round_: pb.Round, metadata: tuple[tuple[str, str], ...]
) -> pb.Round:
    return await region.stub.CreateRound(
        pb.CreateRoundRequest(parent=f"regions/{region.region}", round=round_),
        metadata=metadata,
    )
