"""A region's NATS secrets: its users' passwords (generated, kept out of the repository, only
their bcrypt hashes rendered) and the TLS files of its server and leaf link."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path

import bcrypt
from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yrd_alliance.deployment.nats_auth import DEMO_PARTNER, check_partner_name

BCRYPT_COST = 10  # about 60 ms per hash or login here


@cache
def hashed(password: str) -> str:
    """A bcrypt hash for a rendered config, which holds no password in clear. (Cached per
    process: a hash costs about 60 ms.)"""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_COST)).decode()


def _password() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class TlsFiles:
    """PEM files of a region's NATS server: the deployment's CA, the server's certificate and
    key, and the certificate and key its leaf remote logs in with (subject leaf_subject)."""

    ca: Path
    cert: Path
    key: Path
    leaf_cert: Path | None = None
    leaf_key: Path | None = None

    def block(self, indent: str, *, verify_and_map: bool = False) -> str:
        """For a listener; with verify_and_map, clients log in by their certificate."""
        files = [f'cert_file: "{self.cert}"', f'key_file: "{self.key}"', f'ca_file: "{self.ca}"']
        mapped = ", verify_and_map: true" if verify_and_map else ""
        return f"{indent}tls {{ {', '.join(files)}{mapped}, timeout: 3 }}"

    def remote_block(self) -> str:
        """For a leaf remote: verifies the server, and shows the region's leaf certificate."""
        files = [f'ca_file: "{self.ca}"']
        if self.leaf_cert and self.leaf_key:
            files += [f'cert_file: "{self.leaf_cert}"', f'key_file: "{self.leaf_key}"']
        return f"tls {{ {', '.join(files)}, timeout: 3 }}"


@dataclass(frozen=True)
class RegionSecrets:
    """One region's NATS passwords (its server's config holds only their hashes). The other
    regions' servers log in to its leaf listener by certificate, with no password at all."""

    service_password: str
    admin_password: str  # the alliance's user in each partner account
    partners: dict[str, str] = field(default_factory=dict)  # partner → its password
    route_password: str = ""  # what the servers of the region's cluster log in to each other with

    @classmethod
    def generate(cls, partners: tuple[str, ...]) -> RegionSecrets:
        return cls(_password(), _password(), {p: _password() for p in partners}, _password())


@dataclass(frozen=True)
class NatsSecrets:
    """Every region's NATS passwords, for a federation run on one host (the local launcher and
    the tests): no password is shared by two regions."""

    regions: dict[str, RegionSecrets]

    @classmethod
    def generate(
        cls, regions: list[str], partners: tuple[str, ...] = (DEMO_PARTNER,)
    ) -> NatsSecrets:
        for name in partners:
            check_partner_name(name)
        return cls({region: RegionSecrets.generate(partners) for region in regions})

    def region(self, region: str) -> RegionSecrets:
        return self.regions[region]

    @property
    def partners(self) -> list[str]:
        return sorted({p for r in self.regions.values() for p in r.partners})

    def with_partner(self, name: str) -> NatsSecrets:
        """New passwords for the partner in every region (added, or rotated)."""
        check_partner_name(name)
        return NatsSecrets(
            {
                r: replace(s, partners={**s.partners, name: _password()})
                for r, s in self.regions.items()
            }
        )

    def without_partner(self, name: str) -> NatsSecrets:
        return NatsSecrets(
            {
                r: replace(s, partners={p: k for p, k in s.partners.items() if p != name})
                for r, s in self.regions.items()
            }
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load_or_create(cls, path: Path, regions: list[str]) -> NatsSecrets:
        """Kept beside the local federation's data, mode 0600; regions it lacks are added."""
        found: dict[str, RegionSecrets] = {}
        if path.exists():
            try:
                data = json.loads(path.read_text())
                found = {r: RegionSecrets(**s) for r, s in data["regions"].items()}
            except (KeyError, TypeError, ValueError):
                found = {}  # an older layout: start afresh
        partners = tuple(sorted({p for s in found.values() for p in s.partners})) or (DEMO_PARTNER,)
        missing = {r: RegionSecrets.generate(partners) for r in regions if r not in found}
        keys = cls({**found, **missing})
        if missing or not path.exists():
            keys.save(path)
        return keys


class NatsKeySettings(BaseSettings):
    """One region's NATS passwords in a deployment, from the environment (ALLIANCE_NATS_…)."""

    model_config = SettingsConfigDict(env_prefix="ALLIANCE_NATS_", frozen=True, extra="ignore")

    service_password: SecretStr
    admin_password: SecretStr
    partners: SecretStr = SecretStr("")  # "name=password,name=password"
    route_password: SecretStr = SecretStr("")  # only for a region run as a cluster
    clusters: str = ""  # the regions that run as clusters, "sh=3": where the leaf links go
    ca_file: Path | None = None  # the deployment's CA (PEM)
    cert_file: Path | None = None  # the server's certificate and key
    key_file: Path | None = None
    leaf_cert_file: Path | None = None  # what its leaf remote logs in with
    leaf_key_file: Path | None = None

    def tls_files(self) -> TlsFiles | None:
        """The server's files, or None unless every one of them is set."""
        ca, cert, key = self.ca_file, self.cert_file, self.key_file
        leaf_cert, leaf_key = self.leaf_cert_file, self.leaf_key_file
        if ca and cert and key and leaf_cert and leaf_key:
            return TlsFiles(ca, cert, key, leaf_cert, leaf_key)
        return None

    @field_validator("partners")
    @classmethod
    def _pairs(cls, value: SecretStr) -> SecretStr:
        for entry in filter(None, value.get_secret_value().split(",")):
            _, sep, secret = entry.partition("=")
            if not sep or not secret:
                raise ValueError("must be name=value pairs separated by commas")
        return value

    def keys(self) -> RegionSecrets:
        def pairs(value: SecretStr) -> dict[str, str]:
            entries = (e.partition("=") for e in value.get_secret_value().split(",") if e)
            return {name.strip(): secret.strip() for name, _, secret in entries}

        partners = pairs(self.partners)
        for name in partners:
            check_partner_name(name)
        return RegionSecrets(
            self.service_password.get_secret_value(),
            self.admin_password.get_secret_value(),
            partners,
            self.route_password.get_secret_value(),
        )
