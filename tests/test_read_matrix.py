"""The README's "Who may read what" table, cell by cell, against running services: every read
it lists, by every kind of caller, must answer exactly what the table says."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.pairing.v1 import pairing_pb2 as ppb
from alliance.sharing.v1 import sharing_pb2 as spb

from tests.conftest import PairingRegion, SharingRegion, Tokens, auth, read_events
from tests.test_pairing_api import create_round, round_of, seed
from tests.test_sharing_federation import create_resource, wait_for_carrier, window

README = Path(__file__).resolve().parent.parent / "README.md"
COLUMNS = [
    "operator · home",
    "operator · other region",
    "carrier · party",
    "carrier · same region",
    "carrier · other region",
    "lawyer · party",
    "lawyer · other",
    "partner",
]
OTHER_CARRIER = "regions/zz/carriers/01JZZZZZZZZZZZZZZZZZZZZZZZ"
NOTE, FOLLOW_UP = "商标未注册，存在被抢注风险", "两周内提交商标申请"


def readme_table() -> dict[str, list[str]]:
    text = README.read_text()
    section = text[text.index("### Who may read what") :]
    section = section[: section.index("\n\n", section.index("| read |"))]
    rows = {}
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "read":
            assert cells[1:] == COLUMNS, "the table's columns changed; update the test"
        elif not cells[0].startswith("---"):
            rows[cells[0]] = cells[1:]
    return rows


@dataclass
class World:
    """One region with membership, pairing and sharing, and one of everything to read."""

    pairing: PairingRegion
    sharing: SharingRegion
    party: str  # the check-up's carrier, the owner of the resources, the requester
    neighbour: str  # another carrier of the region: the owner of the requested resource
    lawyer: str  # the check-up's
    other_lawyer: str
    startup: str
    checkup: str
    public: spb.Resource
    region_only: spb.Resource
    draft: spb.Resource
    request: spb.Request

    @property
    def region(self) -> str:
        return self.pairing.region

    def callers(self, party: str | None = None) -> dict[str, tuple[tuple[str, str], ...]]:
        tokens = Tokens(self.region)
        return {
            "operator · home": auth(tokens.operator()),
            "operator · other region": auth(tokens.operator(region="zz")),
            "carrier · party": auth(tokens.carrier(party or self.party)),
            "carrier · same region": auth(
                tokens.carrier(f"regions/{self.region}/carriers/01JNEIGHB0VRNEIGHB0VRNEIGH")
            ),
            "carrier · other region": auth(tokens.carrier(OTHER_CARRIER)),
            "lawyer · party": auth(tokens.lawyer(self.lawyer)),
            "lawyer · other": auth(tokens.lawyer(self.other_lawyer)),
            "partner": auth(tokens.partner()),
        }


@pytest.fixture
async def world(pairing: PairingRegion, sharing: SharingRegion) -> World:
    carriers, _, startups = await seed(pairing, carriers=2, lawyers=8)
    party, neighbour = carriers
    draft_round = await create_round(pairing, round_of(carriers))
    await pairing.stub.PublishRound(
        ppb.PublishRoundRequest(name=draft_round.name), metadata=pairing.op
    )
    mine = [p.lawyer for p in draft_round.plan.pairs if p.carrier == party]
    other = next(p.lawyer for p in draft_round.plan.pairs if p.carrier != party)
    booked = await pairing.stub.BookCheckup(
        ppb.BookCheckupRequest(
            parent=f"regions/{pairing.region}",
            checkup=ppb.Checkup(lawyer=mine[0], startup=startups[party][0]),
        ),
        metadata=auth(pairing.tokens.carrier(party)),
    )
    await pairing.stub.RecordCheckupOutcome(
        ppb.RecordCheckupOutcomeRequest(
            name=booked.name,
            findings=[ppb.Finding(area=2, severity=ppb.SEVERITY_HIGH, note=NOTE)],
            follow_up=FOLLOW_UP,
        ),
        metadata=auth(pairing.tokens.lawyer(mine[0])),
    )
    region = sharing.region
    for carrier in carriers:
        await wait_for_carrier(sharing.stub, carrier)
    public = await create_resource(sharing.stub, region, party, title="公共检测实验室")
    region_only = await create_resource(
        sharing.stub, region, party, title="区内路演厅", visibility=spb.VISIBILITY_REGION
    )
    draft = await create_resource(
        sharing.stub, region, party, title="筹备中的中试基地", state=spb.RESOURCE_STATE_DRAFT
    )
    asked = await create_resource(sharing.stub, region, neighbour, title="邻居的显微镜")
    request = await sharing.stub.CreateRequest(
        spb.CreateRequestRequest(
            parent=f"regions/{region}",
            request=spb.Request(
                resource=asked.name, requester=party, units=1, window=window(), purpose="样品检测"
            ),
        ),
        metadata=auth(sharing.tokens.carrier(party)),
    )
    return World(
        pairing, sharing, party, neighbour, mine[0], other, startups[party][0], booked.name,
        public, region_only, draft, request,
    )  # fmt: skip


Call = Callable[[tuple[tuple[str, str], ...]], Awaitable[Any]]


def reads(w: World) -> dict[str, tuple[Call, Callable[[Any], str], list[str | None]]]:
    """Per row: the call, how to read its answer as a cell, and who the party is (None: the
    world's party; several: each must answer the same)."""
    p, s, region = w.pairing.stub, w.sharing.stub, w.region
    parent = f"regions/{region}"
    members = w.pairing.members.stub

    def whole(_: Any) -> str:
        return "yes"

    def checkup_cell(c: ppb.Checkup) -> str:
        notes = [f.note for f in c.findings]
        assert [f.area for f in c.findings] == [2] and c.findings[0].severity == ppb.SEVERITY_HIGH
        if notes == [NOTE] and c.follow_up == FOLLOW_UP:
            return "yes"
        assert notes == [""] and not c.follow_up, c
        return "no notes"

    def listed(names: Callable[[Any], list[str]], name: str) -> Callable[[Any], str]:
        return lambda reply: "yes" if name in names(reply) else "not shown"

    def listed_checkup(reply: ppb.ListCheckupsResponse) -> str:
        found = [c for c in reply.checkups if c.name == w.checkup]
        return checkup_cell(found[0]) if found else "not shown"

    def get_resource(r: spb.Resource) -> Call:
        return lambda md: s.GetResource(spb.GetResourceRequest(name=r.name), metadata=md)

    resources = lambda reply: [r.name for r in reply.resources]  # noqa: E731
    return {
        "`GetCarrier`": (
            lambda md: members.GetCarrier(mpb.GetCarrierRequest(name=w.party), metadata=md),
            whole, [None],
        ),
        "`GetStartup`": (
            lambda md: members.GetStartup(mpb.GetStartupRequest(name=w.startup), metadata=md),
            whole, [None],
        ),
        "`GetLawyer`": (
            lambda md: p.GetLawyer(ppb.GetLawyerRequest(name=w.lawyer), metadata=md), whole, [None]
        ),
        "`GetCheckup`": (
            lambda md: p.GetCheckup(ppb.GetCheckupRequest(name=w.checkup), metadata=md),
            checkup_cell, [None],
        ),
        "`ListCheckups`": (
            lambda md: p.ListCheckups(ppb.ListCheckupsRequest(parent=parent), metadata=md),
            listed_checkup, [None],
        ),
        "`GetPairingStats`": (
            lambda md: p.GetPairingStats(ppb.GetPairingStatsRequest(parent=parent), metadata=md),
            whole, [None],
        ),
        "`GetResource` published to the alliance": (get_resource(w.public), whole, [None]),
        "`GetResource` published to its region only": (get_resource(w.region_only), whole, [None]),
        "`GetResource` DRAFT": (get_resource(w.draft), whole, [None]),
        "`SearchResources` finds a region-only resource": (
            lambda md: s.SearchResources(spb.SearchResourcesRequest(query="路演厅"), metadata=md),
            listed(resources, w.region_only.name), [None],
        ),
        "`ListResources` of the owner lists a DRAFT": (
            lambda md: s.ListResources(
                spb.ListResourcesRequest(parent=parent, owner=w.party), metadata=md
            ),
            listed(resources, w.draft.name), [None],
        ),
        "`GetRequest`": (
            lambda md: s.GetRequest(spb.GetRequestRequest(name=w.request.name), metadata=md),
            whole, [None, w.neighbour],
        ),
        "`ListRequests`": (
            lambda md: s.ListRequests(spb.ListRequestsRequest(parent=parent), metadata=md),
            listed(lambda reply: [r.name for r in reply.requests], w.request.name), [None],
        ),
        "`ListIncomingRequests`": (
            lambda md: s.ListIncomingRequests(
                spb.ListIncomingRequestsRequest(parent=w.neighbour), metadata=md
            ),
            listed(lambda reply: [b.request for b in reply.bookings], w.request.name),
            [w.neighbour],
        ),
        "`GetSharingStats`": (
            lambda md: s.GetSharingStats(
                spb.GetSharingStatsRequest(parent="regions/-"), metadata=md
            ),
            whole, [None],
        ),
    }  # fmt: skip


async def answer(call: Call, cell: Callable[[Any], str], md: tuple[tuple[str, str], ...]) -> str:
    try:
        return cell(await call(md))
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED, (error.code(), error.details())
        return "denied"


async def test_every_read_answers_every_caller_as_the_readme_says(world: World) -> None:
    table = readme_table()
    cases = reads(world)
    assert set(table) == set(cases), "a row of the README is not checked, or one is missing"
    await _until_the_request_is_held(world)
    mismatches = []
    for row, (call, cell, parties) in cases.items():
        for party in parties:
            callers = world.callers(party)
            for column, expected in zip(COLUMNS, table[row], strict=True):
                got = await answer(call, cell, callers[column])
                if got != expected:
                    mismatches.append(f"{row} × {column} (party {party}): {got}, README {expected}")
    assert not mismatches, "\n".join(mismatches)


async def _until_the_request_is_held(world: World) -> None:
    """The owner's queue fills by event: wait until ListIncomingRequests shows the request."""
    from tests.helpers import eventually

    await eventually(
        lambda: world.sharing.stub.ListIncomingRequests(
            spb.ListIncomingRequestsRequest(parent=world.neighbour), metadata=world.sharing.op
        ),
        lambda reply: any(b.request == world.request.name for b in reply.bookings),
        "the owner's queue",
    )


async def test_events_carry_no_finding_notes_and_no_unpublished_resource(world: World) -> None:
    """Every region and partner reads the events: the check-up's notes, the draft's and the
    region-only resource's contents are in none of them."""
    events = await read_events(world.sharing.members.nats_url, world.region, expected=1)
    assert events
    raw = b"".join(e.payload for e in events)
    for secret in (NOTE, FOLLOW_UP, "筹备中的中试基地", "区内路演厅"):
        assert secret.encode() not in raw, secret
    assert "公共检测实验室".encode() in raw, "published resources do travel"
    completed = [e for e in events if e.type.endswith("CheckupCompleted")]
    assert completed and [f.severity for f in completed[0].decode().checkup.findings] == [  # type: ignore[attr-defined]
        ppb.SEVERITY_HIGH
    ]


def test_the_partner_feed_leaves_out_requests_and_bookings() -> None:
    from yrd_alliance.cli.partners import PARTNER_EVENTS

    def matches(pattern: str, subject: str) -> bool:
        regex = re.escape(pattern).replace(r"\*", r"[^.]+").replace(">", ".+")
        return re.fullmatch(regex, subject) is not None

    def partner_reads(subject: str) -> bool:
        return any(matches(p, subject) for p in PARTNER_EVENTS)

    assert partner_reads("alliance.sh.pairing.checkup.completed")
    assert partner_reads("alliance.sh.sharing.resource.created")
    assert partner_reads("alliance.sh.trust.token.revoked")
    assert not partner_reads("alliance.sh.sharing.request.created")
    assert not partner_reads("alliance.sh.sharing.booking.approved")
