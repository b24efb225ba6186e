"""Configuration: one pydantic-settings class per service, read only from the environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.db import is_postgres_url
from yrd_alliance.kernel.tokens import DEFAULT_MAX_HOURS

REGION_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,9}$")


class ConfigError(SystemExit):
    """Raised at start when the environment is missing or holds an invalid value."""


def region_slug(value: str) -> str:
    """A setting's region name, or ValueError."""
    if not REGION_PATTERN.match(value):
        raise ValueError("must be 2-10 lowercase letters or digits, starting with a letter")
    return value


def long_secret(value: SecretStr | None) -> SecretStr | None:
    """An HMAC key setting: unset, or at least 32 bytes."""
    if value is not None and len(value.get_secret_value().encode()) < 32:
        raise ValueError("must be at least 32 bytes long")
    return value


def tls_or_plaintext(cert: Path | None, key: Path | None, plaintext: bool) -> None:
    """A server serves TLS, unless its operator said plaintext out loud."""
    if not plaintext and not (cert and key):
        raise ValueError(
            "set TLS_CERT_FILE and TLS_KEY_FILE (TLS), or PLAINTEXT=true for development only"
        )


class ServiceSettings(BaseSettings):
    """What every service needs; a service subclasses it and sets its own env prefix."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    region: str = Field(description="Home region of this service, e.g. sh, hz, zjg")
    federation: str = Field(
        default="",
        description="Comma-separated regions whose events this region holds, e.g. sh,hz,zjg "
        "(default: only its own)",
    )
    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    tls_cert_file: Path | None = Field(
        default=None,
        description="The gRPC server's certificate chain (PEM), signed by the deployment's CA",
    )
    tls_key_file: Path | None = Field(default=None, description="Its private key (PEM)")
    plaintext: bool = Field(
        default=False,
        description="Development only: serve gRPC without TLS, so bearer tokens cross the "
        "network in clear. Never the default",
    )
    write_rate_per_s: float = Field(
        default=50.0,
        gt=0,
        description="Writes per second each caller (each token's principal) may make, after a "
        "burst; more are refused with RESOURCE_EXHAUSTED and a RetryInfo delay",
    )
    write_burst: int = Field(default=500, ge=1, description="Writes a caller may make at once")
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="HTTP port of the Prometheus metrics (/metrics), on grpc_host; 0 picks a "
        "free port; unset, no metrics endpoint and nothing counted",
    )
    max_streams_per_connection: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Concurrent calls one client connection may have open",
    )
    db_path: Path = Field(
        description="SQLite database file of this service; with database_url, where its local "
        "files go instead (sharing's search index)"
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://user:password@host:port/database: the service's tables in "
        "PostgreSQL instead of the SQLite file, so that several replicas can share them",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        description="The region's NATS server, or its cluster's servers, comma-separated: the "
        "service connects to any and moves to another when one fails",
    )
    events_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies of the region's streams on its NATS cluster's servers (3 on a "
        "cluster of three: an acked event survives the loss of any one). Every service of a "
        "region must agree",
    )
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_ca_file: Path | None = Field(
        default=None,
        description="The deployment's CA certificate (PEM): NATS over TLS, the server verified",
    )
    jwks_file: Path = Field(
        description="The token issuer's public keys (a JWKS file); reread when it changes, so a "
        "key rotation needs no restart"
    )
    token_max_hours: dict[Role, float] = Field(
        default_factory=lambda: dict(DEFAULT_MAX_HOURS),
        description="The longest lifetime a token of each role may have, in hours, as JSON, "
        'e.g. {"partner": 720}; roles not named keep their default',
    )
    page_token_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key for page tokens; by default one the service makes and keeps in "
        "its database",
    )
    sync_full: bool = Field(default=True, description="SQLite synchronous=FULL (durable commits)")
    read_cache_mb: float = Field(
        default=16.0,
        ge=0,
        description="Memory for replies of cacheable reads (lists, search), kept until the data "
        "changes; 0 turns the cache off",
    )
    max_request_kb: int = Field(
        default=1024,
        ge=16,
        le=16 * 1024,
        description="Largest request message accepted, in KiB; larger ones are refused with "
        "RESOURCE_EXHAUSTED before they are decoded",
    )
    outbox_batch: int = Field(default=256, ge=1, le=10_000)
    outbox_retention_hours: float = Field(default=168.0, gt=0)
    events_retention_hours: float = Field(
        default=168.0,
        gt=0,
        description="How long the region's streams keep events; a region away for longer "
        "catches up from snapshots (alliance snapshot). Every service of a region must agree",
    )
    consumer_max_deliver: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Deliveries of an event whose handler fails before it is set aside as a "
        "dead letter",
    )
    consumer_retry_s: float = Field(
        default=1.0,
        gt=0,
        description="Delay before the second delivery of a failed event; it doubles with each "
        "further delivery, up to 60 s",
    )
    stuck_after_s: float = Field(
        default=30.0,
        gt=0,
        description="The outbox health turns NOT_SERVING when its oldest unsent event is older "
        "than this while NATS is connected",
    )
    leader_poll_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="With replicas on PostgreSQL: how often a replica that does not lead tries "
        "for the lease (kernel.leadership), and the leader checks it still holds it",
    )
    shutdown_grace_s: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text: lines for people; json: one JSON object per line"
    )

    @field_validator("region")
    @classmethod
    def _region_is_a_slug(cls, value: str) -> str:
        return region_slug(value)

    @field_validator("federation")
    @classmethod
    def _federation_is_regions(cls, value: str) -> str:
        for name in (part.strip() for part in value.split(",") if part.strip()):
            if not REGION_PATTERN.match(name):
                raise ValueError(f"{name!r} is not a region name")
        return value

    @property
    def federation_regions(self) -> list[str]:
        """Every region of the federation, this one included."""
        names = [part.strip() for part in self.federation.split(",") if part.strip()]
        return names if self.region in names else [self.region, *names]

    @model_validator(mode="after")
    def _tls_or_explicitly_plaintext(self) -> ServiceSettings:
        tls_or_plaintext(self.tls_cert_file, self.tls_key_file, self.plaintext)
        return self

    @field_validator("database_url")
    @classmethod
    def _database_url_is_postgres(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not is_postgres_url(value.get_secret_value()):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("token_max_hours")
    @classmethod
    def _every_role_has_a_lifetime(cls, value: dict[Role, float]) -> dict[Role, float]:
        if any(hours <= 0 for hours in value.values()):
            raise ValueError("every lifetime must be more than 0 hours")
        return {**DEFAULT_MAX_HOURS, **value}

    @property
    def token_max_lifetime_s(self) -> dict[Role, float]:
        return {role: hours * 3600 for role, hours in self.token_max_hours.items()}

    @field_validator("page_token_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        return long_secret(value)


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Loads settings from the environment, turning a validation error into a message that
    names each bad variable, e.g. ``MEMBERSHIP_GRPC_PORT: Input should be a valid integer``."""
    try:
        return cls()  # type: ignore[call-arg]
    except ValidationError as exc:
        prefix = cls.model_config.get("env_prefix", "")
        lines = [
            f"  {(prefix + '_'.join(str(p) for p in err['loc'])).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError("invalid configuration:\n" + "\n".join(lines)) from None
