"""Pairing rules, free of I/O: what a valid lawyer, round and check-up outcome are."""

from __future__ import annotations

import re

from alliance.pairing.v1 import pairing_pb2 as pb
from alliance.type.v1 import types_pb2
from google.protobuf.descriptor import EnumDescriptor

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.auth import Audience, Principal
from yrd_alliance.kernel.errors import FailedPrecondition, PermissionDenied, Violations
from yrd_alliance.kernel.members import CARRIER, STARTUP
from yrd_alliance.kernel.names import NamePattern
from yrd_alliance.kernel.tables import Stored

SERVICE = "pairing"  # the event source and subject segment

LAWYER = NamePattern("regions/{region}/lawyers/{lawyer}")
ROUND = NamePattern("regions/{region}/rounds/{round}")
ASSIGNMENT = NamePattern("regions/{region}/rounds/{round}/assignments/{assignment}")
CHECKUP = NamePattern("regions/{region}/checkups/{checkup}")

LEGAL_AREA = types_pb2.LegalArea.DESCRIPTOR
LAWYER_UPDATABLE = (
    "display_name",
    "firm",
    "specialties",
    "languages",
    "capacity",
    "conflicts",
    "state",
    "contact",
)
LAWYER_OPERATOR_ONLY = frozenset({"capacity", "state"})
MAX_CAPACITY = 10
MAX_SLOTS = 10
MAX_ROUND_CARRIERS = 1000
MAX_ROUND_LAWYERS = 5000
MAX_FINDINGS = 20
DEFAULT_SLOTS = 4
DEFAULT_MIN_GAIN = 30
DEFAULT_LANGUAGES = ("zh",)
_LANGUAGE = re.compile(r"^[a-z]{2}$")


def _languages(v: Violations, field: str, values: list[str] | tuple[str, ...]) -> None:
    if len(values) > 10:
        v.add(field, f"must list at most 10 languages, got {len(values)}")
    for i, code in enumerate(values):
        if not _LANGUAGE.match(code):
            v.add(f"{field}[{i}]", f"must be an ISO 639-1 code such as 'zh' or 'en', got {code!r}")
    if len(set(values)) != len(values):
        v.add(field, "must not repeat a language")


def check_lawyer(v: Violations, lawyer: pb.Lawyer, prefix: str = "lawyer") -> None:
    check.text(v, f"{prefix}.display_name", lawyer.display_name, required=True)
    check.text(v, f"{prefix}.firm", lawyer.firm, required=True)
    if not lawyer.specialties:
        v.add(f"{prefix}.specialties", "must name at least one legal area")
    check.enum_list(v, f"{prefix}.specialties", lawyer.specialties, LEGAL_AREA, max_items=9)
    _languages(v, f"{prefix}.languages", list(lawyer.languages))
    if not 1 <= lawyer.capacity <= MAX_CAPACITY:
        v.add(f"{prefix}.capacity", f"must be between 1 and {MAX_CAPACITY}")
    if len(lawyer.conflicts) > 100:
        v.add(f"{prefix}.conflicts", "must list at most 100 carriers or startups")
    for i, name in enumerate(lawyer.conflicts):
        if not (CARRIER.matches(name) or STARTUP.matches(name)):
            v.add(
                f"{prefix}.conflicts[{i}]",
                f"must be a carrier or startup name like {CARRIER.template}, got {name[:300]!r}",
            )
    check.enum(v, f"{prefix}.state", lawyer.state, pb.LawyerState.DESCRIPTOR, required=True)
    check.text(v, f"{prefix}.contact.person", lawyer.contact.person, max_len=100)
    check.phone(v, f"{prefix}.contact.phone", lawyer.contact.phone)
    check.email(v, f"{prefix}.contact.email", lawyer.contact.email)


def with_lawyer_defaults(lawyer: pb.Lawyer) -> pb.Lawyer:
    filled = pb.Lawyer()
    filled.CopyFrom(lawyer)
    filled.capacity = filled.capacity or 1
    if not filled.languages:
        filled.languages.extend(DEFAULT_LANGUAGES)
    filled.state = pb.LAWYER_STATE_ACTIVE
    return filled


def ensure_state_change(current: int, target: int, name: str) -> None:
    if current == target:
        return
    if current == pb.LAWYER_STATE_LEFT:
        raise FailedPrecondition(f"{name} has left; its state can no longer change")


def check_round(v: Violations, round_: pb.Round, prefix: str = "round") -> None:
    check.text(v, f"{prefix}.display_name", round_.display_name, required=True)
    check.enum(v, f"{prefix}.mode", round_.mode, pb.PairingMode.DESCRIPTOR, required=True)
    carriers = round_.carriers
    if not 1 <= len(carriers) <= MAX_ROUND_CARRIERS:
        v.add(f"{prefix}.carriers", f"must list 1 to {MAX_ROUND_CARRIERS} carriers")
    seen: set[str] = set()
    for i, entry in enumerate(carriers):
        field = f"{prefix}.carriers[{i}]"
        CARRIER.parse(v, f"{field}.carrier", entry.carrier)
        if entry.carrier in seen:
            v.add(f"{field}.carrier", f"{entry.carrier} is listed twice")
        seen.add(entry.carrier)
        if not 0 <= entry.slots <= MAX_SLOTS:
            v.add(f"{field}.slots", f"must be between 1 and {MAX_SLOTS} (0 means {DEFAULT_SLOTS})")
        _languages(v, f"{field}.languages", list(entry.languages))
    if len(round_.lawyers) > MAX_ROUND_LAWYERS:
        v.add(f"{prefix}.lawyers", f"must list at most {MAX_ROUND_LAWYERS} lawyers")
    for i, name in enumerate(round_.lawyers):
        LAWYER.parse(v, f"{prefix}.lawyers[{i}]", name)
    if len(set(round_.lawyers)) != len(round_.lawyers):
        v.add(f"{prefix}.lawyers", "must not list a lawyer twice")


def ensure_lawyer_may_act(who: Principal, lawyer: Stored[pb.Lawyer] | None, name: str) -> None:
    """A lawyer's own token writes only while the lawyer is ACTIVE (not on leave, not left)."""
    if not who.is_lawyer(name):
        return
    if lawyer is None or lawyer.message.state != pb.LAWYER_STATE_ACTIVE:
        state = "unknown" if lawyer is None else pb.LawyerState.Name(lawyer.message.state)
        raise PermissionDenied(f"{name} is {state}; its token cannot act")


def check_pair_filters(
    v: Violations, carrier: str, lawyer: str, state: int, states: EnumDescriptor
) -> None:
    """A list's optional filters: a carrier, a lawyer and a state of `states`."""
    CARRIER.parse_if_given(v, "carrier", carrier)
    LAWYER.parse_if_given(v, "lawyer", lawyer)
    check.enum(v, "state", state, states, required=False)


def check_findings(v: Violations, findings: list[pb.Finding], follow_up: str) -> None:
    if len(findings) > MAX_FINDINGS:
        v.add("findings", f"must hold at most {MAX_FINDINGS} findings, got {len(findings)}")
    for i, finding in enumerate(findings):
        check.enum(v, f"findings[{i}].area", finding.area, LEGAL_AREA, required=True)
        check.enum(
            v, f"findings[{i}].severity", finding.severity, pb.Severity.DESCRIPTOR, required=True
        )
        check.text(v, f"findings[{i}].note", finding.note, max_len=1000)
    check.text(v, "follow_up", follow_up, max_len=2000)


def checkup_readers(checkup: pb.Checkup) -> Audience:
    """Who reads a check-up's findings in full: the startup's carrier, the check-up's lawyer and
    the operators of the check-up's region."""
    return Audience(
        regions=frozenset({checkup.name.split("/")[1]}),
        carriers=frozenset({checkup.carrier}),
        lawyers=frozenset({checkup.lawyer}),
    )


def checkup_for(checkup: pb.Checkup, who: Principal | None) -> pb.Checkup:
    """The check-up as `who` may read it (None: any reader of events, partners included):
    anyone else sees that it happened, with each finding's area and severity, but no note and
    no follow-up."""
    if who is not None and checkup_readers(checkup).admits(who):
        return checkup
    public = pb.Checkup()
    public.CopyFrom(checkup)
    for finding in public.findings:
        finding.ClearField("note")
    public.ClearField("follow_up")
    return public
