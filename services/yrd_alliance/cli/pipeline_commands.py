"""`alliance dead-letters` and `alliance snapshot`: what the services' event pipelines set aside,
and snapshots for regions that catch up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grpc
import typer
from alliance.operations.v1 import operations_pb2 as ops_pb
from rich.table import Table

from yrd_alliance.cli.common import (
    DEFAULT_BASE,
    BaseDir,
    Region,
    Service,
    console,
    fail,
    operations,
)

letters = typer.Typer(
    no_args_is_help=True,
    help="Events set aside by the services' outboxes and consumers: list, show, replay, discard.",
)


@letters.command("list")
def letters_list(
    region: Region = "", service: Service = "", base_dir: BaseDir = DEFAULT_BASE
) -> None:
    """Every dead letter waiting, one row each."""
    ops = operations(base_dir)
    table = Table(title="dead letters")
    for column in ("name", "origin", "type", "resource", "deliveries", "error"):
        table.add_column(column, overflow="fold")
    for endpoint in ops.endpoints(region, service):
        for letter in ops.dead_letters(endpoint):
            table.add_row(
                letter.name,
                ops_pb.DeadLetterOrigin.Name(letter.origin).removeprefix("DEAD_LETTER_ORIGIN_"),
                letter.type.rsplit(".", 1)[-1] or letter.subject,
                letter.resource,
                str(letter.deliveries),
                letter.error,
            )
    console.print(table)


@letters.command("show")
def letters_show(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """One dead letter as JSON: envelope, error, and the payload decoded where it can be."""
    from google.protobuf.json_format import MessageToDict

    from yrd_alliance.kernel.events import Event, event_to_json

    letter = _letter_call(base_dir, name, "GetDeadLetter", ops_pb.GetDeadLetterRequest(name=name))
    view = MessageToDict(letter)
    try:
        event = Event.from_nats(letter.subject, dict(letter.headers), letter.payload)
        view["event"] = event_to_json(event)
    except ValueError as exc:
        view["event"] = {"error": str(exc)}
    typer.echo(json.dumps(view, ensure_ascii=False, indent=2))


@letters.command("replay")
def letters_replay(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Apply a consumer's dead letter again (once), or queue an outbox letter for publishing."""
    reply = _letter_call(
        base_dir, name, "ReplayDeadLetter", ops_pb.ReplayDeadLetterRequest(name=name)
    )
    console.print(f"{name}: {reply.outcome}")


@letters.command("discard")
def letters_discard(name: str, base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Drop a dead letter for good (logged by the service)."""
    _letter_call(base_dir, name, "DiscardDeadLetter", ops_pb.DiscardDeadLetterRequest(name=name))
    console.print(f"{name}: discarded")


def _letter_call(base_dir: Path, name: str, method: str, request: object) -> Any:
    ops = operations(base_dir)
    try:
        endpoint = ops.endpoint_of(name)
    except ValueError as exc:
        raise fail(str(exc)) from None
    with ops.stub(endpoint) as (stub, md):
        try:
            return getattr(stub, method)(request, metadata=md, timeout=30)
        except grpc.RpcError as error:
            raise fail(f"{error.code().name}: {error.details()}") from None  # type: ignore[attr-defined]


def snapshot(region: Region = "", service: Service = "", base_dir: BaseDir = DEFAULT_BASE) -> None:
    """Have each service publish a snapshot of its region's entities, so a region that was away
    longer than the streams keep events (or joined late) rebuilds its copy of them."""
    ops = operations(base_dir)
    for endpoint in ops.endpoints(region, service):
        with ops.stub(endpoint) as (stub, md):
            try:
                reply = stub.PublishSnapshot(
                    ops_pb.PublishSnapshotRequest(parent=f"regions/{endpoint.region}"),
                    metadata=md,
                    timeout=600,
                )
            except grpc.RpcError as error:
                details = error.details()  # type: ignore[attr-defined]
                raise fail(f"{endpoint.region}/{endpoint.service}: {details}") from None
        counts = ", ".join(f"{n} {kind} events" for kind, n in sorted(reply.events.items()))
        console.print(f"{endpoint.region} {endpoint.service}: {counts or 'nothing to snapshot'}")
