"""The commands of the event layer: a region's NATS server (`alliance nats`), its secrets and
certificates, and reading the events (`alliance events tail`)."""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import nats.errors
import typer

from yrd_alliance.cli.common import (
    DEFAULT_BASE,
    DEFAULT_REGIONS,
    BaseDir,
    fail,
    local_state,
    regions_of,
)
from yrd_alliance.deployment.nats_auth import PORTAL_PARTNER
from yrd_alliance.deployment.nats_secrets import NatsKeySettings, NatsSecrets
from yrd_alliance.deployment.procs import venv_script
from yrd_alliance.deployment.topology import clusters_of, render_container_config
from yrd_alliance.kernel.nats_link import tls_context
from yrd_alliance.kernel.settings import ConfigError, load_settings
from yrd_alliance.kernel.streams import all_stream_name

nats_commands = typer.Typer()  # its commands join the top level
events = typer.Typer(
    no_args_is_help=True, help="The alliance's event streams, as a partner sees them."
)


@nats_commands.command("nats")
def run_nats(
    region: Annotated[str, typer.Option(help="The region this NATS server serves")],
    config_dir: Annotated[Path, typer.Option(help="Where to write its config")] = Path("/tmp/nats"),
    server: Annotated[
        int, typer.Option(help="Which server of the region's cluster ($ALLIANCE_NATS_CLUSTERS)")
    ] = 0,
) -> None:
    """Render a region's NATS config from the topology, $ALLIANCE_NATS_*_PASSWORD and the TLS
    files in $ALLIANCE_NATS_*_FILE, then run nats-server with it (the command of
    docker-compose.yml's nats-<region> containers, and of nats-<region>-<n> for a region that
    runs as a cluster, named with its size in $ALLIANCE_NATS_CLUSTERS, e.g. sh=3)."""
    try:
        settings = load_settings(NatsKeySettings)
        tls = settings.tls_files()
        if tls is None:
            raise ConfigError(
                "TLS files missing: set ALLIANCE_NATS_CA_FILE, _CERT_FILE, _KEY_FILE, "
                "_LEAF_CERT_FILE and _LEAF_KEY_FILE (alliance certs makes them)"
            )
        clusters = clusters_of(settings.clusters)
        if (region in clusters) != (server > 0) or server > clusters.get(region, 0):
            raise ConfigError(
                f"--server names one of the servers of a region in ALLIANCE_NATS_CLUSTERS "
                f"({settings.clusters or 'none'}), from 1, and only then"
            )
        config = render_container_config(
            region, settings.keys(), config_dir, tls, clusters=clusters, server=max(server - 1, 0)
        )
    except (ConfigError, KeyError, ValueError) as exc:
        raise fail(str(exc.code if isinstance(exc, ConfigError) else exc)) from None
    binary = venv_script("nats-server")
    os.execv(binary, [binary, "-c", str(config)])


@nats_commands.command("nats-secrets")
def nats_secrets(
    regions: Annotated[str, typer.Option(help="Comma-separated regions")] = DEFAULT_REGIONS,
    partners: Annotated[str, typer.Option(help="Comma-separated partner organisations")] = "",
) -> None:
    """Print new NATS secrets for a deployment as shell exports, ALLIANCE_<R>_NATS_…: per region
    its services', admin and route passwords and its partners' (leaf links log in by
    certificate), and ALLIANCE_<R>_POSTGRES_PASSWORD for the production profile's PostgreSQL.
    The portals are a partner too (`portal`): ALLIANCE_<R>_PORTAL_NATS_PASSWORD is its
    password, and ALLIANCE_<R>_PORTAL_SECRET the key of its forms' CSRF tokens."""
    names = regions_of(regions)
    named = [p.strip() for p in partners.split(",") if p.strip()]
    try:
        keys = NatsSecrets.generate(names, tuple(dict.fromkeys([*named, PORTAL_PARTNER])))
    except ValueError as exc:
        raise fail(str(exc)) from None
    for region in names:
        own, prefix = keys.region(region), f"ALLIANCE_{region.upper()}_"
        values = {
            "NATS_SERVICE_PASSWORD": own.service_password,
            "NATS_ADMIN_PASSWORD": own.admin_password,
            "NATS_PARTNERS": ",".join(f"{n}={p}" for n, p in own.partners.items()),
            "NATS_ROUTE_PASSWORD": own.route_password,  # for a region run as a cluster
            "POSTGRES_PASSWORD": secrets.token_urlsafe(24),  # for a region on PostgreSQL
            "PORTAL_NATS_PASSWORD": own.partners[PORTAL_PARTNER],
            "PORTAL_SECRET": secrets.token_urlsafe(32),
        }
        for key, value in values.items():
            typer.echo(f"export {prefix}{key}={shlex.quote(value)}")


@nats_commands.command()
def certs(
    out: Annotated[Path, typer.Option(help="Where to write them (keep it out of the repository)")],
    regions: Annotated[str, typer.Option(help="Comma-separated regions")] = DEFAULT_REGIONS,
) -> None:
    """Make a CA and each region's certificates for docker-compose.yml: OUT/<region>/ holds
    ca.pem, nats.pem/.key (its NATS server), leaf.pem/.key (its leaf login) and
    <service>.pem/.key (each service's gRPC port); mount it as ALLIANCE_<R>_TLS_DIR."""
    from yrd_alliance.cli.certs import deployment_certificates
    from yrd_alliance.cli.local import SERVICES

    names = regions_of(regions)
    for folder in deployment_certificates(out, names, (*SERVICES, "portal")):
        typer.echo(
            f"export ALLIANCE_{folder.name.upper()}_TLS_DIR={shlex.quote(str(folder.resolve()))}"
        )


@events.command("tail")
def events_tail(
    at: Annotated[
        str, typer.Option(help="Read the alliance's events held by this region (ALL_<R>)")
    ] = "sh",
    nats_url: Annotated[
        str,
        typer.Option(help="That region's NATS, with credentials (nats://user:password@host:port)"),
    ] = "",
    region: Annotated[str, typer.Option(help="Only events of this home region")] = "*",
    service: Annotated[str, typer.Option(help="Only this service's events")] = "*",
    event_type: Annotated[
        str, typer.Option("--type", help="Only this CloudEvents type, e.g. …CarrierRegistered")
    ] = "",
    from_start: Annotated[
        bool, typer.Option("--from-start", help="Replay history from the beginning")
    ] = False,
    since: Annotated[
        str, typer.Option(help="Replay from this ISO time, e.g. 2026-11-01T00:00:00Z")
    ] = "",
    limit: Annotated[int, typer.Option(help="Stop after this many events (0: follow forever)")] = 0,
    durable: Annotated[
        str, typer.Option(help="Durable consumer name: a later run resumes where this one stopped")
    ] = "",
    ca_file: Annotated[
        str, typer.Option(help="The deployment's CA certificate (PEM) that signed its NATS servers")
    ] = "",
    base_dir: BaseDir = DEFAULT_BASE,
) -> None:
    """Print every region's events as JSON lines: envelope plus decoded payload."""
    from yrd_alliance.cli.tail import tail

    url, tls = nats_url, tls_context(ca_file or None)
    if not url:
        state = local_state(base_dir)  # or pass --nats-url
        try:
            url = state.partner_url(at, base_dir)
        except StopIteration:
            raise fail(f"region {at!r} is not running locally") from None
        tls = tls or state.tls
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise fail(f"--since {since!r} is not an ISO time") from None
    try:
        asyncio.run(
            tail(
                url,
                all_stream_name(at),
                f"alliance.{region}.{service}.>",
                event_type,
                from_start,
                start,
                limit,
                durable,
                lambda line: typer.echo(line),
                tls,
            )
        )
    except KeyboardInterrupt:
        pass
    except (OSError, nats.errors.Error) as exc:
        raise fail(f"cannot read events from {url}: {exc}") from None
