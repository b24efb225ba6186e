"""Who may do what on a region's NATS server.

- Account ALLIANCE, with JetStream: the `service` user (the region's services: they publish
  events only under their region's subjects and use JetStream only for their region's two
  streams and the consumers on its ALL_<R>; client connections only) and one user per other
  region, named by the subject of that region's leaf certificate (TLS verify_and_map), only as
  a leaf connection and carrying only what stream sourcing needs.
- One account per partner organisation, `PARTNER_<NAME>`, with JetStream limits: the partner's
  user reads its own copy of the region's events (a stream named ALL_<R> in its account, fed by
  a consumer the alliance owns; see cli.partners) and manages its own consumers on it; the
  alliance's `admin-<name>` user provisions that copy. ALLIANCE exports to each partner only
  its feed's delivery subject, the feed's flow control and its reset: no service consumer,
  inbox or stream of ALLIANCE is reachable from a partner account, and no partner reaches
  another's account.

Passwords are generated per region and never committed; rendered configs hold only their
bcrypt hashes. Leaf links log in by certificate, so no config holds a password in clear.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path

import bcrypt
from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ACCOUNT = "ALLIANCE"
SERVICE_USER = "service"
BCRYPT_COST = 10  # about 60 ms per hash or login here
DEMO_PARTNER = "demo"
PARTNER_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
RESERVED_NAMES = frozenset({SERVICE_USER, "leaf", "alliance", "admin", "system"})


def check_partner_name(name: str) -> str:
    if not PARTNER_NAME.match(name) or name in RESERVED_NAMES:
        raise ValueError(
            f"partner name {name!r} must be 2-31 lowercase letters or digits, starting with a "
            f"letter, and none of {', '.join(sorted(RESERVED_NAMES))}"
        )
    return name


def partner_account(name: str) -> str:
    return f"PARTNER_{name.upper()}"


def admin_user(name: str) -> str:
    """The alliance's own user in a partner's account, which provisions the partner's copy."""
    return f"admin-{name}"


def feed_name(name: str) -> str:
    """The consumer on ALLIANCE's ALL_<R> that feeds the partner's copy."""
    return f"partner-feed-{name}"


def feed_subject(region: str, name: str) -> str:
    return f"partner.deliver.{region}.{name}"


def partner_allow(region: str) -> list[str]:
    """Reading the partner's own ALL_<R> (NATS wildcards match whole tokens, so it is named)."""
    stream = f"ALL_{region.upper()}"
    return [
        "$JS.API.INFO",
        "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.LIST",
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.NAMES.{stream}",
        f"$JS.API.CONSUMER.LIST.{stream}",
        f"$JS.API.CONSUMER.DELETE.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
        "$JS.FC.>",
    ]


def partner_deny(region: str, name: str) -> list[str]:
    return [
        "alliance.>",
        "ALLIANCE.API.>",
        "partner.deliver.>",
        f"$JS.FC.ALL_{region.upper()}.{feed_name(name)}.>",
        "$JS.API.STREAM.CREATE.>",
        "$JS.API.STREAM.UPDATE.>",
        "$JS.API.STREAM.DELETE.>",
        "$JS.API.STREAM.PURGE.>",
        "$JS.API.STREAM.MSG.DELETE.>",
    ]


def service_allow(region: str) -> list[str]:
    """The region's own events, its own two streams and the consumers on ALL_<R>, and asking
    other regions' domains whether they answer: nothing of another region, no stream deleted
    or purged. (Sourcing is done by the server itself, so the services need nothing more.)"""
    own = [f"EVENTS_{region.upper()}", f"ALL_{region.upper()}"]
    stream = own[1]
    return [
        f"alliance.{region}.>",
        "$JS.API.INFO",
        *(f"$JS.API.STREAM.{verb}.{name}" for name in own for verb in ("INFO", "CREATE", "UPDATE")),
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.*",
        f"$JS.API.CONSUMER.INFO.{stream}.*",
        f"$JS.API.CONSUMER.DELETE.{stream}.*",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
        f"$JS.ACK.*.*.{stream}.>",
        "$JS.*.API.INFO",
    ]


ORGANIZATION = "Yangtze River Delta incubator alliance"  # the O of every certificate


def leaf_user(region: str) -> str:
    """The name in the certificate a region's server shows the other regions' leaf listeners."""
    return f"leaf-{region}"


def leaf_subject(region: str) -> str:
    """That certificate's subject, as the listeners map it to a user (verify_and_map)."""
    return f"CN={leaf_user(region)},O={ORGANIZATION}"


def leaf_allow(regions: list[str]) -> list[str]:
    """What may cross a leaf link, either way: what stream sourcing needs (the sourcing
    consumers on each region's EVENTS_<X>, their deliveries and flow control, replies) and the
    supervisor's INFO of each domain. No stream API, no consumer of ALL_<R>, no event subject:
    a server whose users were all compromised still reaches nothing else of another region."""
    sourcing = [
        f"$JS.{r}.API.{call}.EVENTS_{r.upper()}{tail}"
        for r in regions
        for call, tail in (
            ("CONSUMER.CREATE", ""),  # the name in the body, as sources send it
            ("CONSUMER.CREATE", ".>"),
            ("CONSUMER.DELETE", ".>"),
            ("CONSUMER.INFO", ".>"),
            ("STREAM.INFO", ""),
        )
    ]
    return ["$JS.*.API.INFO", *sourcing, "$JSC.>", "$JS.FC.>", "$JS.S.>", "_INBOX.>", "$LDS.>"]


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

    @classmethod
    def generate(cls, partners: tuple[str, ...]) -> RegionSecrets:
        return cls(_password(), _password(), {p: _password() for p in partners})


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
        )


def _list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def accounts_block(region: str, keys: RegionSecrets, peers: list[str]) -> list[str]:
    """`peers`: the other regions, whose servers may log in to this one's leaf listener."""
    leaf_list = _list(leaf_allow(sorted([region, *peers])))
    lines = [
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users = [",
        f'      {{ user: {SERVICE_USER}, password: "{hashed(keys.service_password)}",',
        '        allowed_connection_types: ["STANDARD"], permissions: {',
        f"          publish: {{ allow: {_list(service_allow(region))} }},",
        '          subscribe: { allow: ["_INBOX.>"] } } }',
        *(
            line
            for peer in sorted(peers)
            for line in (
                f'      {{ user: "{leaf_subject(peer)}",',
                '        allowed_connection_types: ["LEAFNODE"], permissions: {',
                f"          publish: {{ allow: {leaf_list} }},",
                f"          subscribe: {{ allow: {leaf_list} }} }} }}",
            )
        ),
        "    ]",
    ]
    if keys.partners:
        lines.append("    exports = [")
        for name in sorted(keys.partners):
            feed, to = f"ALL_{region.upper()}.{feed_name(name)}", partner_account(name)
            lines += [
                f'      {{ service: "$JS.API.CONSUMER.RESET.{feed}", accounts: [{to}] }}',
                f'      {{ service: "$JS.FC.{feed}.>", accounts: [{to}] }}',
                f'      {{ stream: "{feed_subject(region, name)}", accounts: [{to}] }}',
            ]
        lines.append("    ]")
    lines.append("  }")
    for name, password in sorted(keys.partners.items()):
        lines += _partner_account(region, name, hashed(password), hashed(keys.admin_password))
    return [*lines, "}", ""]


def _partner_account(region: str, name: str, password: str, admin_password: str) -> list[str]:
    """`password` and `admin_password` as the config holds them (hashed)."""
    feed = f"ALL_{region.upper()}.{feed_name(name)}"
    return [
        f"  {partner_account(name)} {{",
        "    jetstream: { max_mem: 0, max_file: 2G, max_streams: 1, max_consumers: 100 }",
        "    users = [",
        f'      {{ user: {name}, password: "{password}", permissions: {{',
        f"          publish: {{ allow: {_list(partner_allow(region))},",
        f"                     deny: {_list(partner_deny(region, name))} }},",
        '          subscribe: { allow: ["_INBOX.>"] } } }',
        f'      {{ user: {admin_user(name)}, password: "{admin_password}", permissions: {{',
        '          publish: { allow: ["$JS.API.>"] }, subscribe: { allow: ["_INBOX.>"] } } }',
        "    ]",
        "    imports = [",
        f'      {{ service: {{ account: {ACCOUNT}, subject: "$JS.API.CONSUMER.RESET.{feed}" }},',
        f'        to: "ALLIANCE.API.CONSUMER.RESET.{feed}" }}',
        f'      {{ service: {{ account: {ACCOUNT}, subject: "$JS.FC.{feed}.>" }} }}',
        f'      {{ stream: {{ account: {ACCOUNT}, subject: "{feed_subject(region, name)}" }} }}',
        "    ]",
        "  }",
    ]
