"""Membership rules, free of I/O: what a valid carrier or startup is, and how updates apply."""

from __future__ import annotations

from alliance.membership.v1 import membership_pb2 as pb
from alliance.type.v1 import types_pb2

from yrd_alliance.kernel import validation as check
from yrd_alliance.kernel.errors import FailedPrecondition, Violations

SERVICE = "membership"  # the event source and subject segment

CARRIER_UPDATABLE = (
    "display_name",
    "level",
    "kind",
    "industrial_chains",
    "city",
    "address",
    "contact",
    "lead_member",
)
# Fields only an operator may set: a carrier's accreditation and its alliance role.
CARRIER_OPERATOR_ONLY = frozenset({"level", "lead_member"})
STARTUP_UPDATABLE = ("display_name", "legal_needs", "industrial_chains", "headcount")
MAX_HEADCOUNT = 1_000_000

CHAIN = types_pb2.IndustrialChain.DESCRIPTOR
LEGAL_AREA = types_pb2.LegalArea.DESCRIPTOR


def check_carrier(v: Violations, carrier: pb.Carrier, prefix: str = "carrier") -> None:
    check.text(v, f"{prefix}.display_name", carrier.display_name, required=True)
    check.enum(v, f"{prefix}.level", carrier.level, pb.CarrierLevel.DESCRIPTOR, required=True)
    check.enum(v, f"{prefix}.kind", carrier.kind, pb.CarrierKind.DESCRIPTOR, required=True)
    check.enum_list(v, f"{prefix}.industrial_chains", carrier.industrial_chains, CHAIN, max_items=8)
    check.text(v, f"{prefix}.city", carrier.city, required=True, max_len=100)
    check.text(v, f"{prefix}.address", carrier.address, max_len=300)
    check.text(v, f"{prefix}.contact.person", carrier.contact.person, max_len=100)
    check.phone(v, f"{prefix}.contact.phone", carrier.contact.phone)
    check.email(v, f"{prefix}.contact.email", carrier.contact.email)


def check_startup(v: Violations, startup: pb.Startup, prefix: str = "startup") -> None:
    check.text(v, f"{prefix}.display_name", startup.display_name, required=True)
    check.enum_list(v, f"{prefix}.legal_needs", startup.legal_needs, LEGAL_AREA, max_items=8)
    check.enum_list(v, f"{prefix}.industrial_chains", startup.industrial_chains, CHAIN, max_items=8)
    if not 0 <= startup.headcount <= MAX_HEADCOUNT:
        v.add(f"{prefix}.headcount", f"must be between 0 and {MAX_HEADCOUNT}")


def ensure_can_change(carrier: pb.Carrier) -> None:
    if carrier.state == pb.CARRIER_STATE_LEFT:
        raise FailedPrecondition(f"{carrier.name} has left the alliance; it can no longer change")


def ensure_active(carrier: pb.Carrier) -> None:
    if carrier.state != pb.CARRIER_STATE_ACTIVE:
        state = pb.CarrierState.Name(carrier.state)
        raise FailedPrecondition(f"{carrier.name} is {state}; only an active carrier may do this")
