"""Caller identity: signed bearer tokens (JWT, HS256) and a declared per-method role policy."""

from __future__ import annotations

import contextvars
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import jwt

from yrd_alliance.kernel.errors import PermissionDenied, Unauthenticated

ISSUER = "yrd-alliance"
AUDIENCE = "yrd-alliance-api"
ALGORITHM = "HS256"


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


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role,
    region: str = "",
    carrier: str = "",
    lawyer: str = "",
    ttl_s: float = 3600.0,
    now: float | None = None,
) -> str:
    issued = time.time() if now is None else now
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": role.value,
        "iat": int(issued),
        "exp": int(issued + ttl_s),
    }
    if region:
        claims["region"] = region
    if carrier:
        claims["carrier"] = carrier
    if lawyer:
        claims["lawyer"] = lawyer
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenVerifier:
    """Verifies tokens, remembering recent good ones until they expire: a client sends the same
    token with every call, and a signature check costs more than the rest of a read."""

    def __init__(self, secret: str, capacity: int = 4096) -> None:
        self._secret = secret
        self._capacity = capacity
        self._known: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        hit = self._known.get(token)
        if hit is not None:
            principal, expires = hit
            if time.time() < expires:
                self._known.move_to_end(token)
                return principal
            del self._known[token]
        principal = verify_token(self._secret, token)
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        self._known[token] = (principal, float(expires))
        if len(self._known) > self._capacity:
            self._known.popitem(last=False)
        return principal


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the bearer token has expired; issue a new one") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"the bearer token is invalid: {exc}") from None
    try:
        role = Role(claims.get("role", ""))
    except ValueError:
        raise Unauthenticated(
            f"the bearer token names an unknown role {claims.get('role')!r}"
        ) from None
    principal = Principal(
        subject=str(claims["sub"]),
        role=role,
        region=str(claims.get("region", "")),
        carrier=str(claims.get("carrier", "")),
        lawyer=str(claims.get("lawyer", "")),
    )
    if role is Role.OPERATOR and not principal.region:
        raise Unauthenticated("an operator token must name its region")
    if role is Role.CARRIER and not principal.carrier:
        raise Unauthenticated("a carrier token must name its carrier")
    if role is Role.LAWYER and not principal.lawyer:
        raise Unauthenticated("a lawyer token must name its lawyer")
    return principal


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
