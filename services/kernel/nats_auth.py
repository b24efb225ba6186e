"""Who may do what on a region's NATS server: one account, ALLIANCE, with JetStream, and users.

- `service`: the region's services. They may publish events only under their region's
  subjects, and use JetStream (their own domain and, for the supervisor, the others').
- `partner`: read-only. It may read the region's ALL_<R>, create consumers on it and ack
  them. Publishing events and creating, updating, purging or deleting streams are denied
  explicitly, so a violation shows up as a permissions error.
- `leaf`: the other regions' servers, bound to ALLIANCE over the leaf connections.

Passwords are generated per deployment and never committed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ACCOUNT = "ALLIANCE"
SERVICE_USER = "service"
PARTNER_USER = "partner"
LEAF_USER = "leaf"


def partner_allow(region: str) -> list[str]:
    """Reading the region's ALL_<R> (NATS wildcards match whole tokens, so it is named)."""
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
        f"$JS.API.CONSUMER.DELETE.{stream}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
        f"$JS.ACK.{stream}.>",
        "$JS.FC.>",
    ]


PARTNER_DENY = [
    "alliance.>",
    "$JS.API.STREAM.CREATE.>",
    "$JS.API.STREAM.UPDATE.>",
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.STREAM.MSG.DELETE.>",
]


def service_allow(region: str) -> list[str]:
    return [f"alliance.{region}.>", "$JS.API.>", "$JS.*.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>"]


@dataclass(frozen=True)
class NatsSecrets:
    service_password: str
    partner_password: str
    leaf_password: str

    @classmethod
    def generate(cls) -> NatsSecrets:
        return cls(*(secrets.token_urlsafe(24) for _ in range(3)))

    @classmethod
    def load_or_create(cls, path: Path) -> NatsSecrets:
        """Kept beside the local federation's data, mode 0600."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps(asdict(cls.generate())))
        return cls(**json.loads(path.read_text()))


class NatsKeySettings(BaseSettings):
    """The passwords of a deployment's NATS users, from the environment (ALLIANCE_NATS_…)."""

    model_config = SettingsConfigDict(env_prefix="ALLIANCE_NATS_", frozen=True, extra="ignore")

    service_password: SecretStr
    partner_password: SecretStr
    leaf_password: SecretStr

    def keys(self) -> NatsSecrets:
        return NatsSecrets(
            self.service_password.get_secret_value(),
            self.partner_password.get_secret_value(),
            self.leaf_password.get_secret_value(),
        )


def _list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def accounts_block(region: str, keys: NatsSecrets) -> list[str]:
    return [
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users = [",
        f'      {{ user: {SERVICE_USER}, password: "{keys.service_password}", permissions: {{',
        f"          publish: {{ allow: {_list(service_allow(region))} }},",
        '          subscribe: { allow: [">"] } } }',
        f'      {{ user: {PARTNER_USER}, password: "{keys.partner_password}", permissions: {{',
        f"          publish: {{ allow: {_list(partner_allow(region))},",
        f"                     deny: {_list(PARTNER_DENY)} }},",
        '          subscribe: { allow: ["_INBOX.>"] } } }',
        "    ]",
        "  }",
        "}",
        "",
    ]


def leaf_authorization(keys: NatsSecrets) -> str:
    password = f'password: "{keys.leaf_password}"'
    return f"  authorization {{ user: {LEAF_USER}, {password}, account: {ACCOUNT} }}"


def with_leaf_credentials(url: str, keys: NatsSecrets) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{LEAF_USER}:{keys.leaf_password}@{rest}"
