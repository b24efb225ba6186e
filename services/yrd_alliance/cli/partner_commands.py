"""`alliance partner`: partner organisations, an account each in every region, reading a copy
of the events they may see."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import nats.errors
import typer
from rich.table import Table

from yrd_alliance.cli.common import DEFAULT_BASE, BaseDir, console, fail, local_state
from yrd_alliance.cli.local import NATS_SECRETS, LocalState
from yrd_alliance.deployment.nats_auth import SERVICE_USER, admin_user, check_partner_name
from yrd_alliance.deployment.nats_secrets import NatsKeySettings, NatsSecrets
from yrd_alliance.kernel.nats_link import tls_context
from yrd_alliance.kernel.settings import ConfigError, load_settings
from yrd_alliance.kernel.streams import all_stream_name

T = TypeVar("T")
partners = typer.Typer(
    no_args_is_help=True,
    help="Partner organisations: an account each, reading a copy of every region's events.",
)


@partners.command("add")
def partner_add(
    name: str,
    subjects: Annotated[
        str,
        typer.Option(
            help="Comma-separated subjects the partner sees, e.g. alliance.*.membership.>"
        ),
    ] = "alliance.>",
    since: Annotated[str, typer.Option(help="Only events from this ISO time on")] = "",
    base_dir: BaseDir = DEFAULT_BASE,
) -> None:
    """Give a partner organisation an account of its own in every region, with a copy of the
    events it may see; prints its credentials once."""
    from yrd_alliance.cli.partners import Partner, provision

    state = local_state(base_dir)
    keys = state.secrets(base_dir)
    try:
        check_partner_name(name)
        start = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    except ValueError as exc:
        raise fail(str(exc)) from None
    if name in keys.partners:
        raise fail(f"{name} is a partner already; `partner rotate` renews it")
    _use(state, base_dir, keys.with_partner(name))
    partner = Partner(name, tuple(s.strip() for s in subjects.split(",") if s.strip()), start)
    _in_each_region(state, base_dir, name, provision, partner)
    _print_partner(state, base_dir, name)


@partners.command("rotate")
def partner_rotate(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """A new password for a partner, live in every region at once (servers reload; the old
    password stops working). Its copy and consumers stay."""
    state = local_state(base_dir)
    keys = state.secrets(base_dir)
    if name not in keys.partners:
        raise fail(f"{name} is not a partner")
    _use(state, base_dir, keys.with_partner(name))
    _print_partner(state, base_dir, name)


@partners.command("remove")
def partner_remove(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Remove a partner: its copies and feeds, then its accounts (servers reload)."""
    from yrd_alliance.cli.partners import deprovision

    state = local_state(base_dir)
    keys = state.secrets(base_dir)
    if name not in keys.partners:
        raise fail(f"{name} is not a partner")
    _in_each_region(state, base_dir, name, deprovision, name)
    _use(state, base_dir, keys.without_partner(name))
    console.print(f"{name} removed from {len(state.nats)} region(s)")


@partners.command("list")
def partner_list(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Every partner, and per region what it sees and how many events its copy holds."""
    from yrd_alliance.cli.partners import describe

    state = local_state(base_dir)
    keys = state.secrets(base_dir)
    table = Table(title="partners")
    for column in ("partner", "region", "sees", "since", "events in its copy"):
        table.add_column(column)
    for name in sorted(keys.partners):
        for region, row in _in_each_region(state, base_dir, name, describe, name):
            table.add_row(name, region, *row)
    console.print(table)


@partners.command("provision")
def partner_provision(
    region: Annotated[str, typer.Option(help="The region whose NATS server this is")],
    nats_url: Annotated[str, typer.Option(help="Its NATS URL, without credentials")] = (
        "nats://127.0.0.1:4222"
    ),
) -> None:
    """Make every configured partner's feed and copy in one region of a deployment (partners
    and passwords from $ALLIANCE_NATS_*); changes nothing that exists. Run it once the region's
    services are up, and after adding a partner to ALLIANCE_NATS_PARTNERS."""
    from yrd_alliance.cli.partners import Partner, ProvisioningError, provision

    try:
        settings = load_settings(NatsKeySettings)
    except ConfigError as exc:
        raise fail(str(exc.code)) from None
    keys, tls = settings.keys(), tls_context(settings.ca_file)
    for name in sorted(keys.partners):
        service = nats_url.replace("://", f"://{SERVICE_USER}:{keys.service_password}@")
        admin = nats_url.replace("://", f"://{admin_user(name)}:{keys.admin_password}@")
        try:
            asyncio.run(provision(service, admin, region, Partner(name), tls=tls))
        except (ProvisioningError, OSError, nats.errors.Error) as exc:
            raise fail(f"{name} in {region}: {exc}") from None
        console.print(f"{name}: its copy of {all_stream_name(region)} is provisioned")


def _use(state: LocalState, base_dir: Path, keys: NatsSecrets) -> None:
    """Keeps the new secrets and has every region's server reload them."""
    keys.save(base_dir / NATS_SECRETS)
    state.reload_nats(keys)


def _in_each_region(
    state: LocalState,
    base_dir: Path,
    partner: str,
    call: Callable[..., Coroutine[Any, Any, T]],
    argument: object,
) -> list[tuple[str, T]]:
    """Runs call(service URL, the partner's admin URL, region, argument, tls=…) against every
    region's NATS in turn; (region, result) each."""
    results = []
    for r in state.nats:
        service, admin = (
            state.service_url(r.region, base_dir),
            state.admin_url(r.region, base_dir, partner),
        )
        results.append(
            (r.region, asyncio.run(call(service, admin, r.region, argument, tls=state.tls)))
        )
    return results


def _print_partner(state: LocalState, base_dir: Path, name: str) -> None:
    console.print(f"[bold]{name}[/]'s credentials (shown once; kept in {base_dir / NATS_SECRETS}):")
    for region in state.nats:
        url = state.partner_url(region.region, base_dir, name)
        console.print(f"  {region.region}: {url}  stream {all_stream_name(region.region)}")
