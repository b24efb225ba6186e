"""Every entity the rules accept fits one event, at the largest each field may be; a round
whose plan would not is refused before it is stored (kernel.events.check_fits)."""

from __future__ import annotations

from alliance.membership.v1 import events_pb2 as mev
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.pairing.v1 import events_pb2 as pev
from alliance.pairing.v1 import pairing_pb2 as ppb
from alliance.sharing.v1 import events_pb2 as sev
from alliance.sharing.v1 import sharing_pb2 as spb
from google.protobuf.message import Message
from yrd_alliance.kernel.errors import Violations
from yrd_alliance.kernel.events import MAX_EVENT_BYTES, build_event, check_fits
from yrd_alliance.membership import rules as membership_rules
from yrd_alliance.pairing import rules as pairing_rules
from yrd_alliance.sharing import rules as sharing_rules

ID = "01JABCDEFGHJKMNPQRSTVWXYZ0"
CARRIER = f"regions/zjg/carriers/{ID}"
STARTUP = f"{CARRIER}/startups/{ID}"
WIDE = "囍"  # three bytes in UTF-8: the widest a character of these texts takes


def _size(payload: Message, resource: str) -> int:
    event = build_event(
        region="zjg", service="s", entity="e", verb="updated", resource=resource, version=1,
        payload=payload,
    )  # fmt: skip
    return event.size


def _accepted(check: object, entity: Message) -> None:
    v = Violations()
    check(v, entity)  # type: ignore[operator]
    assert not v, f"the largest valid {type(entity).__name__} must pass its rules"


def test_the_largest_valid_entity_of_each_kind_fits_an_event() -> None:
    contact = {
        "person": WIDE * 100,
        "phone": "+86 " + "1" * 21,
        "email": "a" * 64 + "@" + "b" * 185 + ".cn",
    }
    carrier = mpb.Carrier(
        name=CARRIER, display_name=WIDE * 200, level=1, kind=1, industrial_chains=range(1, 9),
        city=WIDE * 100, address=WIDE * 300, contact=contact, etag="e" * 20,
    )  # fmt: skip
    _accepted(membership_rules.check_carrier, carrier)
    startup = mpb.Startup(
        name=STARTUP, display_name=WIDE * 200, legal_needs=range(1, 9),
        industrial_chains=range(1, 9), headcount=1_000_000,
    )  # fmt: skip
    _accepted(membership_rules.check_startup, startup)
    lawyer = ppb.Lawyer(
        name=f"regions/zjg/lawyers/{ID}", display_name=WIDE * 200, firm=WIDE * 200,
        specialties=range(1, 10), languages=[f"{a}{b}" for a in "ab" for b in "abcde"],
        capacity=10, conflicts=[STARTUP] * 100, state=ppb.LAWYER_STATE_ACTIVE, contact=contact,
    )  # fmt: skip
    _accepted(pairing_rules.check_lawyer, lawyer)
    windows = [
        spb.TimeWindow(start_time={"seconds": 10 * i}, end_time={"seconds": 10 * i + 5})
        for i in range(1, 51)
    ]
    resource = spb.Resource(
        name=f"regions/zjg/resources/{ID}", owner=CARRIER, category=1, title=WIDE * 200,
        description=WIDE * 4000, industrial_chains=range(1, 9), capacity=100_000,
        availability=windows, visibility=1, state=1,
        terms=spb.Terms(price_fen=10**15, note=WIDE * 500),
    )  # fmt: skip
    _accepted(sharing_rules.check_resource, resource)
    request = spb.Request(
        name=f"regions/zjg/requests/{ID}", resource=resource.name, requester=CARRIER,
        units=100_000, window=windows[0], purpose=WIDE * 1000, reason=WIDE * 500,
    )  # fmt: skip
    findings = [ppb.Finding(area=1, severity=1, note=WIDE * 1000) for _ in range(20)]
    v = Violations()
    pairing_rules.check_findings(v, findings, WIDE * 2000)
    assert not v
    checkup = ppb.Checkup(
        name=f"{STARTUP}/checkups/{ID}", lawyer=lawyer.name, startup=STARTUP, carrier=CARRIER,
        findings=findings, follow_up=WIDE * 2000,
    )  # fmt: skip
    sizes = {
        "carrier": _size(mev.CarrierUpdated(carrier=carrier, changed_fields=["*"] * 20), CARRIER),
        "startup": _size(mev.StartupUpdated(startup=startup), STARTUP),
        "lawyer": _size(pev.LawyerUpdated(lawyer=lawyer), lawyer.name),
        "resource": _size(sev.ResourceUpdated(resource=resource), resource.name),
        "request": _size(sev.RequestCreated(request=request), request.name),
        "checkup": _size(pev.CheckupCompleted(checkup=checkup), checkup.name),
    }
    assert all(size < MAX_EVENT_BYTES for size in sizes.values()), sizes
    assert sizes["checkup"] > 60_000 and sizes["resource"] > 12_000, "the texts are all there"


def _round(carriers: int, slots: int) -> ppb.Round:
    pair = ppb.PlannedPair(
        lawyer=f"regions/zjg/lawyers/{ID}", carrier=CARRIER, slot=1, score=100,
        covered_startups=23, explanation="covers 公司法 for 12 of 23 startups; " * 4,
    )  # fmt: skip
    return ppb.Round(
        name=f"regions/zjg/rounds/{ID}",
        carriers=[ppb.RoundCarrier(carrier=CARRIER, slots=slots)] * carriers,
        plan=ppb.Plan(pairs=[pair] * (carriers * slots)),
    )


def test_a_round_too_big_for_one_event_is_refused_and_the_first_rounds_fit() -> None:
    v = Violations()
    check_fits(v, "round", pev.RoundPublished(round=_round(10, 4)))  # the first round: 40 pairs
    check_fits(v, "round", pev.RoundPublished(round=_round(500, 4)))
    assert not v
    check_fits(v, "round", pev.RoundPublished(round=_round(1000, 10)))
    assert v, "10,000 pairs with their explanations do not fit one event"
