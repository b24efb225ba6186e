"""Who may do what on a region's NATS server.

- Account ALLIANCE, with JetStream: the `service` user (the region's services: they publish
  events only under their region's subjects and use JetStream only for their region's two
  streams and the consumers on its ALL_<R>; client connections only) and the `leaf` user (the
  other regions' servers, over the leaf connections).
- One account per partner organisation, `PARTNER_<NAME>`, with JetStream limits: the partner's
  user reads its own copy of the region's events (a stream named ALL_<R> in its account, fed by
  a consumer the alliance owns; see cli.partners) and manages its own consumers on it; the
  alliance's `admin-<name>` user provisions that copy. ALLIANCE exports to each partner only
  its feed's delivery subject, the feed's flow control and its reset: no service consumer,
  inbox or stream of ALLIANCE is reachable from a partner account, and no partner reaches
  another's account.

Passwords are generated per deployment and never committed.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ACCOUNT = "ALLIANCE"
SERVICE_USER = "service"
LEAF_USER = "leaf"
DEMO_PARTNER = "demo"
PARTNER_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
RESERVED_NAMES = frozenset({SERVICE_USER, LEAF_USER, "alliance", "admin", "system"})


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


@dataclass(frozen=True)
class NatsSecrets:
    service_password: str
    leaf_password: str
    admin_password: str  # the alliance's user in every partner account
    partners: dict[str, str] = field(default_factory=dict)  # partner → its password

    @classmethod
    def generate(cls, partners: tuple[str, ...] = (DEMO_PARTNER,)) -> NatsSecrets:
        return cls(
            service_password=secrets.token_urlsafe(24),
            leaf_password=secrets.token_urlsafe(24),
            admin_password=secrets.token_urlsafe(24),
            partners={check_partner_name(p): secrets.token_urlsafe(24) for p in partners},
        )

    def with_partner(self, name: str) -> NatsSecrets:
        """A new password for the partner (added, or its password rotated)."""
        return replace(
            self, partners={**self.partners, check_partner_name(name): secrets.token_urlsafe(24)}
        )

    def without_partner(self, name: str) -> NatsSecrets:
        return replace(self, partners={p: k for p, k in self.partners.items() if p != name})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load_or_create(cls, path: Path) -> NatsSecrets:
        """Kept beside the local federation's data, mode 0600."""
        if path.exists():
            data = json.loads(path.read_text())
            if set(data) == {f.name for f in cls.__dataclass_fields__.values()}:
                return cls(**data)
        keys = cls.generate()  # none yet, or from an older layout: start afresh
        keys.save(path)
        return keys


class NatsKeySettings(BaseSettings):
    """The passwords of a deployment's NATS users, from the environment (ALLIANCE_NATS_…)."""

    model_config = SettingsConfigDict(env_prefix="ALLIANCE_NATS_", frozen=True, extra="ignore")

    service_password: SecretStr
    leaf_password: SecretStr
    admin_password: SecretStr
    partners: SecretStr = SecretStr("")  # "name=password,name=password"

    @field_validator("partners")
    @classmethod
    def _partners_are_named(cls, value: SecretStr) -> SecretStr:
        for entry in filter(None, value.get_secret_value().split(",")):
            name, sep, password = entry.partition("=")
            if not sep or not password:
                raise ValueError("must be name=password pairs separated by commas")
            check_partner_name(name.strip())
        return value

    def keys(self) -> NatsSecrets:
        pairs = (e.partition("=") for e in self.partners.get_secret_value().split(",") if e)
        return NatsSecrets(
            self.service_password.get_secret_value(),
            self.leaf_password.get_secret_value(),
            self.admin_password.get_secret_value(),
            {name.strip(): password for name, _, password in pairs},
        )


def _list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def accounts_block(region: str, keys: NatsSecrets) -> list[str]:
    lines = [
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users = [",
        f'      {{ user: {SERVICE_USER}, password: "{keys.service_password}",',
        '        allowed_connection_types: ["STANDARD"], permissions: {',
        f"          publish: {{ allow: {_list(service_allow(region))} }},",
        '          subscribe: { allow: ["_INBOX.>"] } } }',
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
        lines += _partner_account(region, name, password, keys.admin_password)
    return [*lines, "}", ""]


def _partner_account(region: str, name: str, password: str, admin_password: str) -> list[str]:
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


def leaf_authorization(keys: NatsSecrets) -> str:
    password = f'password: "{keys.leaf_password}"'
    return f"  authorization {{ user: {LEAF_USER}, {password}, account: {ACCOUNT} }}"


def with_leaf_credentials(url: str, keys: NatsSecrets) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{LEAF_USER}:{keys.leaf_password}@{rest}"
