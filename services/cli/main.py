"""`alliance`: run the local federation, issue tokens, load demo data, watch events."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import signal
import sys
import threading
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import grpc
import nats.errors
import typer
from alliance.operations.v1 import operations_pb2 as ops_pb
from deployment.nats_auth import SERVICE_USER, admin_user, check_partner_name
from deployment.nats_secrets import NatsKeySettings, NatsSecrets
from deployment.procs import venv_script
from deployment.topology import local_topology, render_container_config
from kernel.auth import Role, issue_token
from kernel.nats_link import tls_context
from kernel.settings import ConfigError, load_settings
from kernel.streams import all_stream_name
from rich.console import Console
from rich.table import Table

from cli import demo, pairing_demo, sharing_demo
from cli.local import NATS_SECRETS, LocalFederation, LocalState, jwt_secret
from cli.operations import Operations

app = typer.Typer(no_args_is_help=True, help="Operate the Yangtze River Delta incubator alliance.")
token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens for the alliance's APIs.")
events_app = typer.Typer(
    no_args_is_help=True, help="The alliance's event streams, as a partner sees them."
)
letters_app = typer.Typer(
    no_args_is_help=True,
    help="Events set aside by the services' outboxes and consumers: list, show, replay, discard.",
)
app.add_typer(token_app, name="token")
app.add_typer(events_app, name="events")
partner_app = typer.Typer(
    no_args_is_help=True,
    help="Partner organisations: an account each, reading a copy of every region's events.",
)
app.add_typer(letters_app, name="dead-letters")
app.add_typer(partner_app, name="partner")
console = Console()
# nats-py closing a TLS connection makes asyncio warn "returning true from eof_received() has
# no effect when using ssl" on stderr, once per connection: noise for a command's user.
logging.getLogger("asyncio").setLevel(logging.ERROR)
err = Console(stderr=True)

BaseDir = Annotated[
    Path, typer.Option("--base-dir", help="Where the local federation keeps its data")
]
DEFAULT_BASE = Path("var/local")
DEFAULT_REGIONS = "sh,hz,zjg"


class RoleName(StrEnum):
    operator = "operator"
    carrier = "carrier"
    lawyer = "lawyer"
    partner = "partner"


def _secret(base_dir: Path) -> str:
    return os.environ.get("ALLIANCE_JWT_SECRET") or jwt_secret(base_dir)


@app.command()
def up(
    base_dir: BaseDir = DEFAULT_BASE,
    regions: Annotated[str, typer.Option(help="Comma-separated regions to run")] = DEFAULT_REGIONS,
    nats_port: Annotated[
        int, typer.Option(help="First region's NATS port; leaf ports +3200, monitor ports +4000")
    ] = 4222,
    hub: Annotated[str, typer.Option(help="The hub region (default: the first)")] = "",
    grpc_port: Annotated[
        int, typer.Option(help="First gRPC port; each service takes the next")
    ] = 50051,
    seed: Annotated[bool, typer.Option(help="Load the demo data")] = True,
    detach: Annotated[
        bool, typer.Option(help="Start, print, and exit without waiting for Ctrl-C")
    ] = False,
) -> None:
    """Start NATS and every region's services on this host, load the demo data, wait for Ctrl-C."""
    names = [r.strip() for r in regions.split(",") if r.strip()]
    try:
        topology = local_topology(names, hub=hub or None, base_port=nats_port)
    except ValueError as exc:
        raise typer.Exit(code=_fail(str(exc))) from None
    federation = LocalFederation(base_dir, topology, grpc_base_port=grpc_port)
    stop = threading.Event()
    # Set explicitly: a process started in the background may inherit SIGINT as ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    console.print(
        f"[bold]starting[/] {len(names)} region(s) ({', '.join(names)}; hub {topology.hub}) "
        f"in {base_dir} …"
    )
    state = federation.start()
    try:
        secret = _secret(base_dir)
        if seed:
            _load_demo(state, secret)
        _print_endpoints(state, secret)
        if detach:
            federation.processes.clear()  # leave them running
            return
        console.print("[bold green]ready[/] — Ctrl-C stops everything")
        stop.wait()
    finally:
        if federation.processes:
            console.print("stopping …")
            federation.stop()
            console.print("stopped")


def _print_endpoints(state: LocalState, secret: str) -> None:
    table = Table(title="alliance endpoints")
    table.add_column("region")
    table.add_column("service")
    table.add_column("gRPC (plaintext, reflection on)")
    for endpoint in state.endpoints:
        table.add_row(endpoint.region, endpoint.service, endpoint.target)
    for server in state.nats:
        table.add_row(server.region, "NATS JetStream", f"{server.url} (monitor {server.monitor})")
    console.print(table)
    first = state.endpoints[0]
    token = issue_token(
        secret, subject="dev", role=Role.OPERATOR, region=first.region, ttl_s=12 * 3600
    )
    buf = Path(sys.executable).parent / "buf"
    command = [
        str(buf),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-H",
        f"authorization: Bearer {token}",
        "--data",
        json.dumps({"parent": f"regions/{first.region}", "pageSize": 3}),
        f"http://{first.target}/alliance.membership.v1.MembershipService/ListCarriers",
    ]
    console.print("try it (a dev operator token, valid 12 h):")
    console.print(" ".join(shlex.quote(part) for part in command), soft_wrap=True, highlight=False)


@app.command()
def status(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Every region: its services' health and event pipeline (outbox backlog, consumer pending,
    dead letters), its leaf links, and how far behind each source is. Exits 1 when anything is
    unhealthy, stuck or set aside."""
    from cli.status import gather

    path = base_dir / "state.json"
    if not path.exists():
        raise typer.Exit(
            code=_fail(f"no local federation is running ({path} is missing); run `make run`")
        )
    report = asyncio.run(gather(LocalState.load(path), base_dir, _secret(base_dir)))
    services = Table(title="services")
    for column in ("region", "service", "target", "health", "outbox", "consumer", "dead letters"):
        services.add_column(column)
    for service_row in report.services:
        services.add_row(*service_row)
    links = Table(title="federation")
    for column in ("region", "NATS", "leaf links", "ALL_<R> messages", "source lag"):
        links.add_column(column)
    for region_row in report.regions:
        links.add_row(*region_row)
    console.print(services)
    console.print(links)
    raise typer.Exit(code=0 if report.healthy else 1)


@app.command("nats")
def run_nats(
    region: Annotated[str, typer.Option(help="The region this NATS server serves")],
    config_dir: Annotated[Path, typer.Option(help="Where to write its config")] = Path("/tmp/nats"),
) -> None:
    """Render a region's NATS config from the topology, $ALLIANCE_NATS_*_PASSWORD and the TLS
    files in $ALLIANCE_NATS_*_FILE, then run nats-server with it (the command of
    docker-compose.yml's nats-<region> containers)."""
    try:
        settings = load_settings(NatsKeySettings)
        tls = settings.tls_files()
        if tls is None:
            raise ConfigError(
                "TLS files missing: set ALLIANCE_NATS_CA_FILE, _CERT_FILE, _KEY_FILE, "
                "_LEAF_CERT_FILE and _LEAF_KEY_FILE (alliance certs makes them)"
            )
        config = render_container_config(region, settings.keys(), config_dir, tls)
    except (ConfigError, KeyError) as exc:
        raise typer.Exit(
            code=_fail(str(exc.code if isinstance(exc, ConfigError) else exc))
        ) from None
    binary = venv_script("nats-server")
    os.execv(binary, [binary, "-c", str(config)])


@app.command("nats-secrets")
def nats_secrets(
    regions: Annotated[str, typer.Option(help="Comma-separated regions")] = DEFAULT_REGIONS,
    partners: Annotated[str, typer.Option(help="Comma-separated partner organisations")] = "",
) -> None:
    """Print new NATS secrets for a deployment as shell exports, ALLIANCE_<R>_NATS_…: per region
    its services' and admin passwords and its partners' (leaf links log in by certificate)."""
    names = [r.strip() for r in regions.split(",") if r.strip()]
    try:
        keys = NatsSecrets.generate(names, tuple(p.strip() for p in partners.split(",") if p))
    except ValueError as exc:
        raise typer.Exit(code=_fail(str(exc))) from None
    for region in names:
        own, prefix = keys.region(region), f"ALLIANCE_{region.upper()}_NATS_"
        values = {
            "SERVICE_PASSWORD": own.service_password,
            "ADMIN_PASSWORD": own.admin_password,
            "PARTNERS": ",".join(f"{n}={p}" for n, p in own.partners.items()),
        }
        for key, value in values.items():
            typer.echo(f"export {prefix}{key}={shlex.quote(value)}")


@app.command()
def certs(
    out: Annotated[Path, typer.Option(help="Where to write them (keep it out of the repository)")],
    regions: Annotated[str, typer.Option(help="Comma-separated regions")] = DEFAULT_REGIONS,
) -> None:
    """Make a CA and each region's NATS certificates for docker-compose.yml: OUT/<region>/ holds
    ca.pem, nats.pem/.key (its server) and leaf.pem/.key (its leaf login); mount it as
    ALLIANCE_<R>_TLS_DIR."""
    from cli.certs import deployment_certificates

    names = [r.strip() for r in regions.split(",") if r.strip()]
    for folder in deployment_certificates(out, names):
        typer.echo(
            f"export ALLIANCE_{folder.name.upper()}_TLS_DIR={shlex.quote(str(folder.resolve()))}"
        )


@app.command()
def probe(
    target: Annotated[str, typer.Argument(help="host:port of a service")] = "127.0.0.1:50051",
    timeout: float = 3.0,
) -> None:
    """Exit 0 when the service's gRPC health check answers SERVING (for container healthchecks)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError as error:
            raise typer.Exit(code=_fail(f"{target}: {error.code().name}")) from None  # type: ignore[attr-defined]
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        raise typer.Exit(code=_fail(f"{target}: {status}"))


@app.command()
def seed(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Load the demo data into the running local federation (idempotent)."""
    path = base_dir / "state.json"
    if not path.exists():
        raise typer.Exit(code=_fail(f"no local federation is running ({path} is missing)"))
    _load_demo(LocalState.load(path), _secret(base_dir))


def _load_demo(state: LocalState, secret: str) -> None:
    """The article's data, idempotently: carriers and startups, lawyers, the round, check-ups."""

    def operator(region: str) -> str:
        return issue_token(secret, subject="demo-loader", role=Role.OPERATOR, region=region)

    def lawyer(name: str) -> str:
        return issue_token(secret, subject="demo-loader", role=Role.LAWYER, lawyer=name)

    carriers, startups = demo.load_all(
        state.targets("membership"),
        operator,
        progress=lambda line: console.print(f"  loaded {line}"),
    )
    console.print(f"demo data: {carriers} carriers, {startups} startups")
    if state.targets("sharing"):
        items = sharing_demo.load(
            state.targets("membership"),
            state.targets("sharing"),
            operator,
            progress=lambda line: console.print(f"  loaded {line}"),
        )
        console.print(f"demo sharing: {items} service items")
    if set(pairing_demo.REGIONS) <= state.targets("pairing").keys():
        pairs, checkups = pairing_demo.load(
            pairing_demo.Targets(state.targets("membership"), state.targets("pairing")),
            operator,
            lawyer,
            progress=lambda line: console.print(f"  loaded {line}"),
        )
        console.print(f"demo pairing: {pairs} lawyer–carrier pairs, {checkups} check-ups")


@app.command()
def pair(
    at: Annotated[str, typer.Option(help="The region whose pairing service holds the round")] = (
        pairing_demo.ROUND_REGION
    ),
    round_name: Annotated[
        str, typer.Option("--round", help="regions/{r}/rounds/{id}; default: the latest")
    ] = "",
    base_dir: BaseDir = DEFAULT_BASE,
) -> None:
    """Print a pairing round's plan: who is paired with whom, the scores and why."""
    from cli.pairing_table import print_round

    path = base_dir / "state.json"
    if not path.exists():
        raise typer.Exit(code=_fail(f"no local federation is running ({path} is missing)"))
    state = LocalState.load(path)
    if at not in state.targets("pairing"):
        raise typer.Exit(code=_fail(f"region {at} runs no pairing service here"))
    token = issue_token(_secret(base_dir), subject="cli", role=Role.PARTNER)
    try:
        print_round(console, state, at, round_name, token)
    except LookupError as exc:
        raise typer.Exit(code=_fail(str(exc))) from None


@token_app.command("issue")
def token_issue(
    role: Annotated[RoleName, typer.Option(help="The caller's role")],
    region: Annotated[str, typer.Option(help="Operators: the region they run")] = "",
    carrier: Annotated[
        str, typer.Option(help="Carriers: their resource name, regions/{r}/carriers/{id}")
    ] = "",
    lawyer: Annotated[
        str, typer.Option(help="Lawyers: their resource name, regions/{r}/lawyers/{id}")
    ] = "",
    subject: Annotated[str, typer.Option(help="Who the token is for")] = "cli-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
    base_dir: BaseDir = DEFAULT_BASE,
) -> None:
    """Print a signed bearer token (key: $ALLIANCE_JWT_SECRET or the local federation's)."""
    if role is RoleName.operator and not region:
        raise typer.Exit(code=_fail("an operator token needs --region"))
    if role is RoleName.carrier and not carrier:
        raise typer.Exit(
            code=_fail("a carrier token needs --carrier regions/{region}/carriers/{id}")
        )
    if role is RoleName.lawyer and not lawyer:
        raise typer.Exit(code=_fail("a lawyer token needs --lawyer regions/{region}/lawyers/{id}"))
    typer.echo(
        issue_token(
            _secret(base_dir),
            subject=subject,
            role=Role(role.value),
            region=region,
            carrier=carrier,
            lawyer=lawyer,
            ttl_s=ttl,
        )
    )


@events_app.command("tail")
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
    from cli.tail import tail

    url, tls = nats_url, tls_context(ca_file or None)
    if not url:
        path = base_dir / "state.json"
        if not path.exists():
            raise typer.Exit(code=_fail("no local federation is running; pass --nats-url"))
        state = LocalState.load(path)
        try:
            url = state.partner_url(at, base_dir)
        except StopIteration:
            raise typer.Exit(code=_fail(f"region {at!r} is not running locally")) from None
        tls = tls or state.tls
    start = None
    if since:
        try:
            start = datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            raise typer.Exit(code=_fail(f"--since {since!r} is not an ISO time")) from None
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
        raise typer.Exit(code=_fail(f"cannot read events from {url}: {exc}")) from None


def _operations(base_dir: Path) -> Operations:
    path = base_dir / "state.json"
    if not path.exists():
        raise typer.Exit(code=_fail("no local federation is running; run `make run`"))
    return Operations(LocalState.load(path), _secret(base_dir))


Region = Annotated[str, typer.Option(help="Only this region's services (default: every region)")]
Service = Annotated[str, typer.Option(help="Only this service, e.g. sharing (default: all)")]


@letters_app.command("list")
def letters_list(
    region: Region = "", service: Service = "", base_dir: BaseDir = DEFAULT_BASE
) -> None:
    """Every dead letter waiting, one row each."""
    operations = _operations(base_dir)
    table = Table(title="dead letters")
    for column in ("name", "origin", "type", "resource", "deliveries", "error"):
        table.add_column(column, overflow="fold")
    for endpoint in operations.endpoints(region, service):
        for letter in operations.dead_letters(endpoint):
            table.add_row(
                letter.name,
                ops_pb.DeadLetterOrigin.Name(letter.origin).removeprefix("DEAD_LETTER_ORIGIN_"),
                letter.type.rsplit(".", 1)[-1] or letter.subject,
                letter.resource,
                str(letter.deliveries),
                letter.error,
            )
    console.print(table)


@letters_app.command("show")
def letters_show(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """One dead letter as JSON: envelope, error, and the payload decoded where it can be."""
    from google.protobuf.json_format import MessageToDict
    from kernel.events import Event, event_to_json

    letter = _letter_call(base_dir, name, "GetDeadLetter", ops_pb.GetDeadLetterRequest(name=name))
    view = MessageToDict(letter)
    try:
        event = Event.from_nats(letter.subject, dict(letter.headers), letter.payload)
        view["event"] = event_to_json(event)
    except ValueError as exc:
        view["event"] = {"error": str(exc)}
    typer.echo(json.dumps(view, ensure_ascii=False, indent=2))


@letters_app.command("replay")
def letters_replay(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Apply a consumer's dead letter again (once), or queue an outbox letter for publishing."""
    reply = _letter_call(
        base_dir, name, "ReplayDeadLetter", ops_pb.ReplayDeadLetterRequest(name=name)
    )
    console.print(f"{name}: {reply.outcome}")


@letters_app.command("discard")
def letters_discard(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Drop a dead letter for good (logged by the service)."""
    _letter_call(base_dir, name, "DiscardDeadLetter", ops_pb.DiscardDeadLetterRequest(name=name))
    console.print(f"{name}: discarded")


def _letter_call(base_dir: Path, name: str, method: str, request: object) -> Any:
    operations = _operations(base_dir)
    try:
        endpoint = operations.endpoint_of(name)
    except ValueError as exc:
        raise typer.Exit(code=_fail(str(exc))) from None
    with operations.stub(endpoint) as (stub, md):
        try:
            return getattr(stub, method)(request, metadata=md, timeout=30)
        except grpc.RpcError as error:
            raise typer.Exit(code=_fail(f"{error.code().name}: {error.details()}")) from None  # type: ignore[attr-defined]


@app.command()
def snapshot(region: Region = "", service: Service = "", base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Have each service publish a snapshot of its region's entities, so a region that was away
    longer than the streams keep events (or joined late) rebuilds its copy of them."""
    operations = _operations(base_dir)
    for endpoint in operations.endpoints(region, service):
        with operations.stub(endpoint) as (stub, md):
            try:
                reply = stub.PublishSnapshot(
                    ops_pb.PublishSnapshotRequest(parent=f"regions/{endpoint.region}"),
                    metadata=md,
                    timeout=600,
                )
            except grpc.RpcError as error:
                raise typer.Exit(
                    code=_fail(f"{endpoint.region}/{endpoint.service}: {error.details()}")  # type: ignore[attr-defined]
                ) from None
        counts = ", ".join(f"{n} {kind} events" for kind, n in sorted(reply.events.items()))
        console.print(f"{endpoint.region} {endpoint.service}: {counts or 'nothing to snapshot'}")


def _local_state(base_dir: Path) -> LocalState:
    path = base_dir / "state.json"
    if not path.exists():
        raise typer.Exit(code=_fail("no local federation is running; run `make run`"))
    return LocalState.load(path)


@partner_app.command("add")
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
    from cli.partners import Partner, provision

    state = _local_state(base_dir)
    keys = state.secrets(base_dir)
    try:
        check_partner_name(name)
        start = datetime.fromisoformat(since.replace("Z", "+00:00")) if since else None
    except ValueError as exc:
        raise typer.Exit(code=_fail(str(exc))) from None
    if name in keys.partners:
        raise typer.Exit(code=_fail(f"{name} is a partner already; `partner rotate` renews it"))
    keys = keys.with_partner(name)
    keys.save(base_dir / NATS_SECRETS)
    state.reload_nats(keys)
    partner = Partner(name, tuple(s.strip() for s in subjects.split(",") if s.strip()), start)
    for region in state.nats:
        asyncio.run(
            provision(
                state.service_url(region.region, base_dir),
                state.admin_url(region.region, base_dir, name),
                region.region,
                partner,
                tls=state.tls,
            )
        )
    _print_partner(state, base_dir, name)


@partner_app.command("rotate")
def partner_rotate(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """A new password for a partner, live in every region at once (servers reload; the old
    password stops working). Its copy and consumers stay."""
    state = _local_state(base_dir)
    keys = state.secrets(base_dir)
    if name not in keys.partners:
        raise typer.Exit(code=_fail(f"{name} is not a partner"))
    keys = keys.with_partner(name)
    keys.save(base_dir / NATS_SECRETS)
    state.reload_nats(keys)
    _print_partner(state, base_dir, name)


@partner_app.command("remove")
def partner_remove(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Remove a partner: its copies and feeds, then its accounts (servers reload)."""
    from cli.partners import deprovision

    state = _local_state(base_dir)
    keys = state.secrets(base_dir)
    if name not in keys.partners:
        raise typer.Exit(code=_fail(f"{name} is not a partner"))
    for region in state.nats:
        asyncio.run(
            deprovision(
                state.service_url(region.region, base_dir),
                state.admin_url(region.region, base_dir, name),
                region.region,
                name,
                tls=state.tls,
            )
        )
    keys = keys.without_partner(name)
    keys.save(base_dir / NATS_SECRETS)
    state.reload_nats(keys)
    console.print(f"{name} removed from {len(state.nats)} region(s)")


@partner_app.command("list")
def partner_list(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Every partner, and per region what it sees and how many events its copy holds."""
    from cli.partners import describe

    state = _local_state(base_dir)
    keys = state.secrets(base_dir)
    table = Table(title="partners")
    for column in ("partner", "region", "sees", "since", "events in its copy"):
        table.add_column(column)
    for name in sorted(keys.partners):
        for region in state.nats:
            row = asyncio.run(
                describe(
                    state.service_url(region.region, base_dir),
                    state.admin_url(region.region, base_dir, name),
                    region.region,
                    name,
                    tls=state.tls,
                )
            )
            table.add_row(name, region.region, *row)
    console.print(table)


@partner_app.command("provision")
def partner_provision(
    region: Annotated[str, typer.Option(help="The region whose NATS server this is")],
    nats_url: Annotated[str, typer.Option(help="Its NATS URL, without credentials")] = (
        "nats://127.0.0.1:4222"
    ),
) -> None:
    """Make every configured partner's feed and copy in one region of a deployment (partners
    and passwords from $ALLIANCE_NATS_*); changes nothing that exists. Run it once the region's
    services are up, and after adding a partner to ALLIANCE_NATS_PARTNERS."""
    from cli.partners import Partner, ProvisioningError, provision

    try:
        settings = load_settings(NatsKeySettings)
    except ConfigError as exc:
        raise typer.Exit(code=_fail(str(exc.code))) from None
    keys, tls = settings.keys(), tls_context(settings.ca_file)
    for name in sorted(keys.partners):
        service = nats_url.replace("://", f"://{SERVICE_USER}:{keys.service_password}@")
        admin = nats_url.replace("://", f"://{admin_user(name)}:{keys.admin_password}@")
        try:
            asyncio.run(provision(service, admin, region, Partner(name), tls=tls))
        except (ProvisioningError, OSError, nats.errors.Error) as exc:
            raise typer.Exit(code=_fail(f"{name} in {region}: {exc}")) from None
        console.print(f"{name}: its copy of {all_stream_name(region)} is provisioned")


def _print_partner(state: LocalState, base_dir: Path, name: str) -> None:
    console.print(f"[bold]{name}[/]'s credentials (shown once; kept in {base_dir / NATS_SECRETS}):")
    for region in state.nats:
        url = state.partner_url(region.region, base_dir, name)
        console.print(f"  {region.region}: {url}  stream {all_stream_name(region.region)}")


def _fail(message: str) -> int:
    err.print(f"[red]error:[/] {message}")
    return 2


if __name__ == "__main__":
    app()
