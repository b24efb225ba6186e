"""The federation's token issuer: Ed25519 signing keys in a folder (each `<kid>.key`, mode 0600)
and `jwks.json`, the public half of each, which is all the services are given.

The newest key signs. A rotation adds a key (old and new both verify, the services reread the
JWKS within a second), and `retire` removes the old one once the tokens it signed have expired:
from then on those are refused. An alliance with its own identity provider skips this and gives
the services that provider's JWKS instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ulid import ULID

from yrd_alliance.kernel.tokens import SigningKey, issue_token, public_jwk

JWKS = "jwks.json"


class Issuer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def load_or_create(cls, folder: Path) -> Issuer:
        """The issuer in `folder`, with a first key made if it has none."""
        issuer = cls(folder)
        if not issuer.kids():
            issuer.rotate()
        elif not issuer.jwks_path.exists():
            issuer._write_jwks()
        return issuer

    @property
    def jwks_path(self) -> Path:
        return self.folder / JWKS

    def kids(self) -> list[str]:
        """Key ids, oldest first (a kid is a ULID, so they sort by creation)."""
        return sorted(p.stem for p in self.folder.glob("*.key"))

    def key(self, kid: str | None = None) -> SigningKey:
        """The key of that id; by default the newest, which signs."""
        kids = self.kids()
        kid = kid or kids[-1]
        if kid not in kids:
            raise KeyError(f"no signing key {kid!r} in {self.folder}")
        loaded = serialization.load_pem_private_key(
            (self.folder / f"{kid}.key").read_bytes(), password=None
        )
        assert isinstance(loaded, Ed25519PrivateKey)
        return SigningKey(kid, loaded)

    def rotate(self) -> str:
        """Adds a new key, which signs from now on; the others still verify."""
        self.folder.mkdir(parents=True, exist_ok=True)
        kid = str(ULID())
        path = self.folder / f"{kid}.key"
        path.touch(mode=0o600)
        path.write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self._write_jwks()
        return kid

    def retire(self, kid: str) -> None:
        """Removes a key that no longer signs: tokens it signed are refused from then on."""
        kids = self.kids()
        if kid not in kids:
            raise KeyError(f"no signing key {kid!r} in {self.folder}")
        if kids == [kid]:
            raise ValueError("that is the only key; rotate first")
        (self.folder / f"{kid}.key").unlink()
        self._write_jwks()

    def _write_jwks(self) -> None:
        keys = [public_jwk(self.key(kid)) for kid in self.kids()]
        staged = self.jwks_path.with_suffix(".tmp")
        staged.write_text(json.dumps({"keys": keys}, indent=2))
        staged.replace(self.jwks_path)  # readers never see half a file

    def sign(self, **claims: Any) -> str:
        """A token signed with the newest key; `claims` as `kernel.tokens.issue_token` takes
        them (subject, role, region, carrier, lawyer, ttl_s, jti)."""
        return issue_token(self.key(), **claims)
