"""What `alliance status` shows: service health, calls (rate, failures, p99, from the services'
metrics over one second), event pipeline, leaf links, and replication lag per source."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import nats
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from yrd_alliance.cli.local import LocalState
from yrd_alliance.cli.operations import Operations, pipeline_summary
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.kernel.streams import all_stream_name
from yrd_alliance.kernel.tokens import SigningKey

RPC_WINDOW_S = 1.0


@dataclass
class Report:
    services: list[tuple[str, ...]] = field(default_factory=list)
    regions: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    healthy: bool = True


async def gather(state: LocalState, base_dir: Path, key: SigningKey) -> Report:
    report = Report()
    operations = Operations(state, key)
    before = {e.metrics: _scrape(e.metrics) for e in [*state.endpoints, *state.portals]}
    began = time.monotonic()
    await asyncio.sleep(RPC_WINDOW_S)
    seconds = time.monotonic() - began
    for endpoint in state.endpoints:
        health = _health(state.grpc(endpoint))
        rpcs = rpc_summary(before[endpoint.metrics], _scrape(endpoint.metrics), seconds)
        outbox, consumer, letters, flowing = pipeline_summary(operations.status(endpoint))
        report.healthy &= health == "SERVING" and flowing
        report.services.append(
            (endpoint.region, endpoint.service, endpoint.target, health, rpcs, outbox, consumer,
             letters)
        )  # fmt: skip
    for portal in state.portals:
        health = _portal_health(portal.target, state.ca_file)
        pages = page_summary(before[portal.metrics], _scrape(portal.metrics), seconds)
        report.healthy &= health == "SERVING"
        report.services.append((portal.region, "portal", portal.target, health, pages, "", "", ""))
    for region in state.nats:
        links = _leaf_links(region.monitor)
        url = state.service_url(region.region, base_dir)
        messages, lag = await _sources(url, region.region, state.tls)
        report.regions.append((region.region, region.url, links, messages, lag))
    return report


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(url: str) -> Samples | None:
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def rpc_summary(before: Samples | None, after: Samples | None, seconds: float) -> str:
    """Calls per second, the share that failed, and p99, over the window between two scrapes
    of a service's metrics."""
    return _summary(
        before,
        after,
        seconds,
        ("grpc_server_handled_total", "grpc_server_handling_seconds_bucket"),
        lambda labels: labels.get("grpc_code") != "OK",
    )


def page_summary(before: Samples | None, after: Samples | None, seconds: float) -> str:
    """The same for a portal's pages; a page failed when it answered 5xx."""
    return _summary(
        before,
        after,
        seconds,
        ("http_server_requests_total", "http_server_request_duration_seconds_bucket"),
        lambda labels: labels.get("code", "").startswith("5"),
    )


def _summary(
    before: Samples | None,
    after: Samples | None,
    seconds: float,
    names: tuple[str, str],
    failed: Callable[[dict[str, str]], bool],
) -> str:
    if before is None or after is None:
        return "no metrics"
    counter, histogram = names

    def delta(name: str, keep: Callable[[dict[str, str]], bool] = lambda _: True) -> float:
        def total(samples: Samples) -> float:
            return sum(v for (n, ls), v in samples.items() if n == name and keep(dict(ls)))

        return total(after) - total(before)

    calls = delta(counter)
    if calls <= 0:
        return "idle"
    bounds = {dict(labels)["le"] for name, labels in after if name == histogram}

    def below(le: str) -> Callable[[dict[str, str]], bool]:
        return lambda labels: labels["le"] == le

    buckets = {float(le): delta(histogram, below(le)) for le in bounds}
    p99 = next((b for b in sorted(buckets) if buckets[b] >= 0.99 * calls), float("inf"))
    p99_text = f"≤ {p99 * 1000:g} ms" if p99 != float("inf") else "> 5 s"
    return f"{calls / seconds:.1f}/s, {delta(counter, failed) / calls:.0%} failed, p99 {p99_text}"


def _health(target: GrpcTarget) -> str:
    with target.channel() as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=2
            )
        except grpc.RpcError as error:
            return f"unreachable ({error.code().name})"  # type: ignore[attr-defined]
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def _portal_health(url: str, ca_file: Path) -> str:
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2, context=context):
            return "SERVING"
    except OSError as error:
        return f"unreachable ({error})"


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
