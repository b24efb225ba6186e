"""The portal's configuration, read only from PORTAL_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.settings import long_secret, region_slug, tls_or_plaintext
from yrd_alliance.kernel.tokens import DEFAULT_MAX_HOURS


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", frozen=True, extra="ignore")

    region: str = Field(description="The region whose services this portal reads and writes")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    tls_cert_file: Path | None = Field(default=None, description="HTTPS certificate chain (PEM)")
    tls_key_file: Path | None = Field(default=None, description="Its private key (PEM)")
    plaintext: bool = Field(
        default=False,
        description="Development only: serve plain HTTP, so session cookies cross the network "
        "in clear. Never the default",
    )
    membership: str = Field(description="host:port of the region's membership service")
    sharing: str = Field(description="host:port of the region's sharing service")
    pairing: str = Field(description="host:port of the region's pairing service")
    grpc_ca_file: Path | None = Field(
        default=None,
        description="The deployment's CA certificate: the services are reached over TLS and "
        "verified by it. Unset: plaintext gRPC, for services started with PLAINTEXT=true",
    )
    jwks_file: Path = Field(description="The token issuer's public keys, to check sign-ins")
    partner_token_file: Path = Field(
        description="The portal's own partner token: what a visitor who is not signed in sees "
        "is what a partner may read. Reread when it changes"
    )
    nats_url: str = Field(default="", description="NATS of the region, for the live feed")
    nats_user: str | None = Field(default=None, description="The portal's partner account user")
    nats_password: SecretStr | None = None
    nats_ca_file: Path | None = None
    secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the forms' CSRF tokens (32 bytes or more); by default a new "
        "one at each start, so forms opened before a restart must be sent again",
    )
    token_max_hours: dict[Role, float] = Field(default_factory=lambda: dict(DEFAULT_MAX_HOURS))
    stats_interval_s: float = Field(
        default=2.0, gt=0, description="How often the live feed checks the sharing statistics"
    )
    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="HTTP port of the Prometheus metrics (/metrics), on http_host; unset: none",
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    @field_validator("region")
    @classmethod
    def _region_is_a_slug(cls, value: str) -> str:
        return region_slug(value)

    @field_validator("secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        return long_secret(value)

    @model_validator(mode="after")
    def _tls_or_explicitly_plaintext(self) -> PortalSettings:
        tls_or_plaintext(self.tls_cert_file, self.tls_key_file, self.plaintext)
        return self

    @property
    def https(self) -> bool:
        return not self.plaintext

    @property
    def token_max_lifetime_s(self) -> dict[Role, float]:
        return {
            role: hours * 3600
            for role, hours in {**DEFAULT_MAX_HOURS, **self.token_max_hours}.items()
        }
