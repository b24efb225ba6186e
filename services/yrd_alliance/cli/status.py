"""What `alliance status` shows: service health and event pipeline, leaf links, and replication
lag per source."""

from __future__ import annotations

import json
import ssl
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import nats
from grpc_health.v1 import health_pb2, health_pb2_grpc

from yrd_alliance.cli.local import LocalState
from yrd_alliance.cli.operations import Operations, pipeline_summary
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.kernel.streams import all_stream_name
from yrd_alliance.kernel.tokens import SigningKey


@dataclass
class Report:
    services: list[tuple[str, ...]] = field(default_factory=list)
    regions: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    healthy: bool = True


async def gather(state: LocalState, base_dir: Path, key: SigningKey) -> Report:
    report = Report()
    operations = Operations(state, key)
    for endpoint in state.endpoints:
        health = _health(state.grpc(endpoint))
        outbox, consumer, letters, flowing = pipeline_summary(operations.status(endpoint))
        report.healthy &= health == "SERVING" and flowing
        report.services.append(
            (endpoint.region, endpoint.service, endpoint.target, health, outbox, consumer, letters)
        )
    for region in state.nats:
        links = _leaf_links(region.monitor)
        url = state.service_url(region.region, base_dir)
        messages, lag = await _sources(url, region.region, state.tls)
        report.regions.append((region.region, region.url, links, messages, lag))
    return report


def _health(target: GrpcTarget) -> str:
    with target.channel() as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=2
            )
        except grpc.RpcError as error:
            return f"unreachable ({error.code().name})"  # type: ignore[attr-defined]
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _leaf_links(monitor: str) -> str:
    try:
        with urllib.request.urlopen(f"{monitor}/leafz", timeout=2) as response:
            leafs = json.load(response).get("leafs") or []
    except OSError as exc:
        return f"unreachable ({exc})"
    names = sorted(str(leaf.get("name", "?")).removeprefix("alliance-") for leaf in leafs)
    return ", ".join(names) or "none"


async def _sources(url: str, region: str, tls: ssl.SSLContext | None) -> tuple[str, str]:
    try:
        nc = await nats.connect(
            url, connect_timeout=2, allow_reconnect=False, error_cb=_ignore, tls=tls
        )
    except Exception as exc:
        return "?", f"unreachable ({exc})"
    try:
        info = await nc.jetstream().stream_info(all_stream_name(region))
    except Exception as exc:
        return "?", f"no {all_stream_name(region)} yet ({exc})"
    finally:
        await nc.close()
    lags = ", ".join(
        f"{(s.name or '?').removeprefix('EVENTS_').lower()}: {s.lag}" for s in info.sources or []
    )
    return str(info.state.messages), lags


async def _ignore(_error: Exception) -> None:
    """Connection errors surface as the connect call's exception."""
