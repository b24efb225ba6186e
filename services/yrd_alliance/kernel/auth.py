"""Caller identity: who a verified bearer token (kernel.tokens) names, and a declared
per-method role policy."""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from yrd_alliance.kernel.errors import PermissionDenied, Unauthenticated


class Role(StrEnum):
    OPERATOR = "operator"  # alliance staff of one region
    CARRIER = "carrier"  # acts for one carrier
    LAWYER = "lawyer"
    PARTNER = "partner"  # read-only


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    region: str = ""  # operators: the region they run
    carrier: str = ""  # carriers: their carrier's resource name
    lawyer: str = ""  # lawyers: their lawyer resource name

    @property
    def identity(self) -> str:
        """Who this is, whatever token it came with: its subject and every claim of its role."""
        return f"{self.role.value}|{self.subject}|{self.region}|{self.carrier}|{self.lawyer}"

    def is_member_of(self, region: str) -> bool:
        """An operator of the region, or a token acting for one of its carriers."""
        if self.role is Role.CARRIER:
            return self.carrier.startswith(f"regions/{region}/")
        return self.is_operator_of(region)

    def is_operator_of(self, region: str) -> bool:
        return self.role is Role.OPERATOR and self.region == region

    def acts_for(self, carrier_name: str) -> bool:
        return self.role is Role.CARRIER and self.carrier == carrier_name

    def is_lawyer(self, lawyer_name: str) -> bool:
        return self.role is Role.LAWYER and self.lawyer == lawyer_name

    def scope(self, carrier: str = "", lawyer: str = "") -> tuple[str, str]:
        """The carrier and lawyer filters this caller may read with: a carrier token sees only
        its own carrier's records, a lawyer token only its own; others see what they ask for.
        Asking for someone else's is PERMISSION_DENIED."""
        if self.role is Role.CARRIER:
            if carrier and carrier != self.carrier:
                raise PermissionDenied(f"a carrier token sees only {self.carrier}'s records")
            return self.carrier, lawyer
        if self.role is Role.LAWYER:
            if lawyer and lawyer != self.lawyer:
                raise PermissionDenied(f"a lawyer token sees only {self.lawyer}'s records")
            return carrier, self.lawyer
        return carrier, lawyer


@dataclass(frozen=True)
class Audience:
    """Who may read an entity that is not for everyone (see the README's read table): its
    carriers and lawyers, the operators of its regions, and, with `region_members`, every
    carrier of those regions."""

    regions: frozenset[str] = frozenset()
    carriers: frozenset[str] = frozenset()
    lawyers: frozenset[str] = frozenset()
    region_members: bool = False

    def admits(self, who: Principal) -> bool:
        if who.role is Role.OPERATOR:
            return who.region in self.regions
        if who.role is Role.CARRIER:
            members = self.region_members and any(who.is_member_of(r) for r in self.regions)
            return who.carrier in self.carriers or members
        if who.role is Role.LAWYER:
            return who.lawyer in self.lawyers
        return False

    def require(self, who: Principal, what: str) -> None:
        if not self.admits(who):
            raise PermissionDenied(f"{what} is not for a {who.role.value} token like this one")


def bearer_from_metadata(metadata: Mapping[str, str | bytes]) -> str:
    value = metadata.get("authorization")
    if not value:
        raise Unauthenticated("missing 'authorization: Bearer <token>' metadata")
    text = value.decode() if isinstance(value, bytes) else value
    scheme, _, token = text.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the authorization metadata must be 'Bearer <token>'")
    return token.strip()


ANY_ROLE = frozenset(Role)
WRITERS = frozenset({Role.OPERATOR, Role.CARRIER})


@dataclass(frozen=True)
class MethodPolicy:
    """Which roles may call which methods; a method not listed is denied to everyone."""

    roles_by_method: Mapping[str, frozenset[Role]]

    def check(self, method: str, principal: Principal) -> None:
        allowed = self.roles_by_method.get(method)
        if allowed is None:
            raise PermissionDenied(f"{method} is not open to any caller")
        if principal.role not in allowed:
            raise PermissionDenied(f"role {principal.role.value} may not call {method}")


current_principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("current_principal")


def caller() -> Principal:
    """The authenticated caller of the RPC being served (set by the guard, kernel.guard)."""
    return current_principal.get()
