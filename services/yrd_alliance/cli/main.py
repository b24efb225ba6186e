"""`alliance`: run the local federation, issue tokens, load demo data, watch events. The
command groups live beside it: nats_commands, partner_commands, pipeline_commands."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from yrd_alliance.cli import demo, pairing_demo, sharing_demo
from yrd_alliance.cli.common import (
    DEFAULT_BASE,
    DEFAULT_REGIONS,
    BaseDir,
    console,
    fail,
    local_state,
    regions_of,
    signing_key,
)
from yrd_alliance.cli.local import LocalFederation, LocalState
from yrd_alliance.cli.nats_commands import events, nats_commands
from yrd_alliance.cli.partner_commands import partners
from yrd_alliance.cli.pipeline_commands import letters, snapshot
from yrd_alliance.cli.token_commands import tokens
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.topology import local_topology
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.tokens import SigningKey, issue_token
from yrd_alliance.kernel.tracing import enabled_by_environment

app = typer.Typer(no_args_is_help=True, help="Operate the Yangtze River Delta incubator alliance.")
app.add_typer(tokens, name="token")
app.add_typer(events, name="events")
app.add_typer(letters, name="dead-letters")
app.add_typer(partners, name="partner")
app.add_typer(nats_commands)
app.command()(snapshot)


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
    portal_port: Annotated[
        int, typer.Option(help="The first region's portal (HTTPS); each region takes the next")
    ] = 8081,
    seed: Annotated[bool, typer.Option(help="Load the demo data")] = True,
    detach: Annotated[
        bool, typer.Option(help="Start, print, and exit without waiting for Ctrl-C")
    ] = False,
) -> None:
    """Start NATS and every region's services on this host, load the demo data, wait for Ctrl-C."""
    names = regions_of(regions)
    try:
        topology = local_topology(names, hub=hub or None, base_port=nats_port)
    except ValueError as exc:
        raise fail(str(exc)) from None
    federation = LocalFederation(
        base_dir, topology, grpc_base_port=grpc_port, portal_base_port=portal_port
    )
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
        key = signing_key(base_dir)
        if seed:
            _load_demo(state, key)
        _print_endpoints(state, key)
        if detach:
            federation.processes.clear()  # leave them running
            return
        console.print("[bold green]ready[/] — Ctrl-C stops everything")
        federation.watch(stop, report=lambda line: console.print(line, highlight=False))
    finally:
        if federation.processes:
            console.print("stopping …")
            federation.stop()
            console.print("stopped")


def _print_endpoints(state: LocalState, key: SigningKey) -> None:
    table = Table(title="alliance endpoints")
    table.add_column("region")
    table.add_column("service")
    table.add_column("gRPC (TLS, reflection on)")
    table.add_column("metrics")
    for endpoint in state.endpoints:
        table.add_row(endpoint.region, endpoint.service, endpoint.target, endpoint.metrics)
    for server in state.nats:
        table.add_row(server.region, "NATS JetStream", server.url, f"{server.monitor}/varz")
    console.print(table)
    for portal in state.portals:
        console.print(f"portal of {portal.region}: {portal.target}/", highlight=False)
    console.print(
        f"the portals' certificates are signed by the local CA {state.ca_file} (import it into "
        "your browser, or accept the warning); sign in with a token from `alliance token issue`",
        soft_wrap=True,
        highlight=False,
    )
    otlp = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    console.print(
        f"traces: exported over OTLP to {otlp}"
        if enabled_by_environment()
        else "traces: off (to see them: `alliance traces` in another terminal, then start with "
        "OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317)",
        soft_wrap=True,
        highlight=False,
    )
    first = state.endpoints[0]
    token = issue_token(
        key, subject="dev", role=Role.OPERATOR, region=first.region, ttl_s=12 * 3600
    )
    buf = Path(sys.executable).parent / "buf"
    command = [
        str(buf),
        "curl",
        "--protocol",
        "grpc",
        "--cacert",
        str(state.ca_file),
        "-H",
        f"authorization: Bearer {token}",
        "--data",
        json.dumps({"parent": f"regions/{first.region}", "pageSize": 3}),
        f"https://{first.target}/alliance.membership.v1.MembershipService/ListCarriers",
    ]
    console.print(f"certificates: signed by the local CA {state.ca_file}")
    console.print("try it (a dev operator token, valid 12 h; the server verified by that CA):")
    console.print(" ".join(shlex.quote(part) for part in command), soft_wrap=True, highlight=False)


@app.command()
def traces(
    listen: Annotated[
        str, typer.Option(help="host:port to receive OTLP/gRPC traces on")
    ] = "127.0.0.1:4317",
) -> None:
    """Receive the services' traces and print each span as it arrives, until Ctrl-C: start the
    services with OTEL_EXPORTER_OTLP_ENDPOINT=http://<listen> (e.g. before `make run`)."""
    from yrd_alliance.deployment.trace_sink import ReceivedSpan, TraceSink

    host, _, port = listen.rpartition(":")

    def show(span: ReceivedSpan) -> None:
        parent = span.parent_id[:8] if span.parent_id else "root"
        where = f"{span.region}/{span.service}"
        console.print(
            f"{span.trace_id[:12]} {span.span_id[:8]} ← {parent:8} {where:14} {span.kind:8} "
            f"{span.milliseconds:8.2f} ms  {span.name}",
            highlight=False,
            soft_wrap=True,
        )

    async def receive() -> None:
        sink = TraceSink(on_span=show)
        try:
            bound = await sink.start(host or "127.0.0.1", int(port))
        except (OSError, ValueError) as exc:
            raise fail(f"cannot listen on {listen}: {exc}") from None
        console.print(
            f"receiving traces on {host}:{bound}; start the services with "
            f"OTEL_EXPORTER_OTLP_ENDPOINT=http://{host}:{bound}",
            soft_wrap=True,
        )
        console.print("trace        span       parent   region/service kind     duration     name")
        stop = asyncio.Event()
        # Set explicitly: a process started in the background may inherit SIGINT as ignored.
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await sink.stop()

    asyncio.run(receive())


@app.command()
def status(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Every region: its services' health and event pipeline (outbox backlog, consumer pending,
    dead letters), its leaf links, and how far behind each source is. Exits 1 when anything is
    unhealthy, stuck or set aside."""
    from yrd_alliance.cli.status import gather

    report = asyncio.run(gather(local_state(base_dir), base_dir, signing_key(base_dir)))
    services = Table(title="services")
    columns = ("region", "service", "target", "health", "calls (1 s)", "outbox", "consumer",
               "dead letters")  # fmt: skip
    for column in columns:
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


@app.command()
def probe(
    target: Annotated[str, typer.Argument(help="host:port of a service")] = "127.0.0.1:50051",
    cacert: Annotated[
        Path | None, typer.Option(help="The CA that signed the service's certificate (TLS)")
    ] = None,
    plaintext: Annotated[
        bool, typer.Option(help="The service runs without TLS (development only)")
    ] = False,
    timeout: float = 3.0,
) -> None:
    """Exit 0 when the service's gRPC health check answers SERVING (for container healthchecks)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    if (cacert is None) != plaintext:
        raise fail("give --cacert (TLS) or --plaintext (a development service)")
    with GrpcTarget(target, cacert).channel() as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
        except grpc.RpcError as error:
            raise fail(f"{target}: {error.code().name}") from None  # type: ignore[attr-defined]
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        raise fail(f"{target}: {status}")


@app.command()
def seed(base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Load the demo data into the running local federation (idempotent)."""
    _load_demo(local_state(base_dir), signing_key(base_dir))


def _load_demo(state: LocalState, key: SigningKey) -> None:
    """The article's data, idempotently: carriers and startups, lawyers, the round, check-ups."""

    def operator(region: str) -> str:
        return issue_token(key, subject="demo-loader", role=Role.OPERATOR, region=region)

    def lawyer(name: str) -> str:
        return issue_token(key, subject="demo-loader", role=Role.LAWYER, lawyer=name)

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
    from yrd_alliance.cli.pairing_table import print_round

    state = local_state(base_dir)
    if at not in state.targets("pairing"):
        raise fail(f"region {at} runs no pairing service here")
    token = issue_token(signing_key(base_dir), subject="cli", role=Role.PARTNER)
    try:
        print_round(console, state, at, round_name, token)
    except LookupError as exc:
        raise fail(str(exc)) from None


if __name__ == "__main__":
    app()
