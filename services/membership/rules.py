"""Membership rules, free of I/O: what a valid carrier or startup is, and how updates apply."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from alliance.membership.v1 import membership_pb2 as pb
from alliance.type.v1 import types_pb2
from kernel import validation as check
from kernel.errors import FailedPrecondition, Violations

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


def mask_paths(v: Violations, paths: Sequence[str], updatable: Sequence[str]) -> list[str]:
    """The fields an update_mask names; "*" means every updatable field."""
    if not paths:
        v.add("update_mask", f"is required: name the fields to change among {', '.join(updatable)}")
        return []
    if list(paths) == ["*"]:
        return list(updatable)
    for path in paths:
        if path not in updatable:
            v.add("update_mask", f"{path!r} cannot be updated; updatable: {', '.join(updatable)}")
    return sorted(set(paths), key=list(updatable).index) if not v else []


R = TypeVar("R", pb.Carrier, pb.Startup)


def merge_update(
    current: R, change: R, paths: Sequence[str], check: Callable[[Violations, R], None]
) -> tuple[R, list[str]]:
    """The resource after the update and the fields whose value changed; an invalid result is
    INVALID_ARGUMENT, so an update can never store what a create would refuse."""
    updated = type(current)()
    updated.CopyFrom(current)
    changed = apply_mask(updated, change, paths)
    violations = Violations()
    check(violations, updated)
    violations.raise_if_any()
    return updated, changed


def apply_mask(
    target: pb.Carrier | pb.Startup, source: pb.Carrier | pb.Startup, paths: Sequence[str]
) -> list[str]:
    """Copies the named fields; returns those whose value actually changed."""
    changed = []
    for path in paths:
        before = getattr(target, path)
        after = getattr(source, path)
        if before == after:
            continue
        changed.append(path)
        target.ClearField(path)
        if isinstance(after, (str, int, bool)):
            setattr(target, path, after)
        elif hasattr(after, "CopyFrom"):
            getattr(target, path).CopyFrom(after)
        else:
            getattr(target, path).extend(after)
    return changed


def ensure_can_change(carrier: pb.Carrier) -> None:
    if carrier.state == pb.CARRIER_STATE_LEFT:
        raise FailedPrecondition(f"{carrier.name} has left the alliance; it can no longer change")


def ensure_active(carrier: pb.Carrier) -> None:
    if carrier.state != pb.CARRIER_STATE_ACTIVE:
        state = pb.CarrierState.Name(carrier.state)
        raise FailedPrecondition(f"{carrier.name} is {state}; only an active carrier may do this")
