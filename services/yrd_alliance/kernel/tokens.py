"""Bearer tokens only the issuer can sign: JWTs with Ed25519 signatures (alg EdDSA).

Services hold only public keys, as a JWKS file they reread when it changes, so a key rotation
needs no restart: the issuer adds a key (both verify), signs with the new one, and removes the
old key once the tokens it signed have expired. Each token names its key (`kid`), carries an
id (`jti`) an operator can revoke, and may live no longer than its role's maximum.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yrd_alliance.kernel.auth import Principal, Role
from yrd_alliance.kernel.errors import Unauthenticated

ISSUER = "yrd-alliance"
AUDIENCE = "yrd-alliance-api"
ALGORITHM = "EdDSA"
CLOCK_SKEW_S = 60  # how far the issuer's clock and this host's may disagree
DEFAULT_MAX_HOURS = {
    Role.OPERATOR: 12.0,
    Role.CARRIER: 12.0,
    Role.LAWYER: 12.0,
    Role.PARTNER: 30 * 24.0,  # a partner organisation's system
}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey


def issue_token(
    key: SigningKey,
    *,
    subject: str,
    role: Role,
    region: str = "",
    carrier: str = "",
    lawyer: str = "",
    ttl_s: float = 3600.0,
    now: float | None = None,
    jti: str | None = None,
) -> str:
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": role.value,
        "iat": int(issued),
        "exp": int(issued + ttl_s),
        "jti": jti or uuid.uuid4().hex,
    }
    for claim, value in (("region", region), ("carrier", carrier), ("lawyer", lawyer)):
        if value:
            claims[claim] = value
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})


class KeySet:
    """The public keys tokens may be signed with, from a JWKS file; reread when the file
    changes (looked at no more than once per `recheck_s`)."""

    def __init__(self, path: Path, recheck_s: float = 1.0) -> None:
        self._path = path
        self._recheck_s = recheck_s
        self._checked = 0.0
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        stat = os.stat(self._path)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        keys = {}
        for jwk in json.loads(self._path.read_text())["keys"]:
            if jwk.get("alg", ALGORITHM) != ALGORITHM or not jwk.get("kid"):
                continue  # a key for another algorithm, or one no token could name
            keys[jwk["kid"]] = jwt.PyJWK(jwk, ALGORITHM).key
        self._keys, self._stamp = keys, stamp

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self._recheck_s:
            return
        self._checked = now
        try:
            self._load()
        except (OSError, ValueError, KeyError, jwt.PyJWKError):
            pass  # a file being rewritten: keep the keys last read

    def get(self, kid: str) -> Any | None:
        self._refresh()
        return self._keys.get(kid)


def public_jwk(key: SigningKey) -> dict[str, str]:
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.private_key.public_key()))
    return {**jwk, "kid": key.kid, "alg": ALGORITHM, "use": "sig"}


class TokenVerifier:
    """Verifies tokens, remembering recent good ones until they expire (a client sends the same
    token with every call, and a signature check costs more than the rest of a read); a
    remembered token is still refused once its key is removed or its id revoked."""

    def __init__(
        self,
        keys: KeySet,
        max_lifetime_s: Mapping[Role, float],
        revoked: Callable[[str], bool] = lambda jti: False,
        capacity: int = 4096,
    ) -> None:
        self._keys = keys
        self._max_lifetime_s = max_lifetime_s
        self._revoked = revoked
        self._capacity = capacity
        self._known: OrderedDict[str, tuple[Principal, float, str, str]] = OrderedDict()

    def verify(self, token: str) -> Principal:
        hit = self._known.get(token)
        if hit is None:
            principal, expires, kid, jti = self._decode(token)
            self._known[token] = (principal, expires, kid, jti)
            if len(self._known) > self._capacity:
                self._known.popitem(last=False)
        else:
            principal, expires, kid, jti = hit
            self._known.move_to_end(token)
            if time.time() >= expires:
                del self._known[token]
                raise Unauthenticated("the bearer token has expired; issue a new one")
            if self._keys.get(kid) is None:
                del self._known[token]
                raise Unauthenticated(f"the bearer token's key {kid!r} is no longer trusted")
        if self._revoked(jti):
            raise Unauthenticated("the bearer token has been revoked")
        return principal

    def _decode(self, token: str) -> tuple[Principal, float, str, str]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the bearer token is invalid: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated(f"the bearer token must be signed with {ALGORITHM}")
        kid = str(header.get("kid", ""))
        key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated(f"the bearer token names no trusted key (kid {kid!r})")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "jti"]},
                leeway=CLOCK_SKEW_S,
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired; issue a new one") from None
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"the bearer token is invalid: {exc}") from None
        principal = principal_of(claims)
        issued, expires = float(claims["iat"]), float(claims["exp"])
        longest = self._max_lifetime_s[principal.role]
        if expires - issued > longest:
            raise Unauthenticated(
                f"a {principal.role.value} token may live at most {longest / 3600:g} h; "
                "issue a shorter one"
            )
        return principal, expires, kid, str(claims["jti"])


def principal_of(claims: Mapping[str, Any]) -> Principal:
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
