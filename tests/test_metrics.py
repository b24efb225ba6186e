"""Prometheus metrics: every metric exists with the labels `region` and `service`, and moves
when the thing it counts happens (a call, an error, an event applied, a write NATS has not
taken, a cache hit)."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import grpc
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from prometheus_client.parser import text_string_to_metric_families
from yrd_alliance.cli.status import rpc_summary
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.membership.app import DEFINITION

from tests.conftest import Tokens, auth, new_region, sample_carrier, settings_for, tls_channel
from tests.helpers import expect_error
from tests.service_process import running, service_process

SERVICE = "alliance.membership.v1.MembershipService"


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on /metrics: (name, sorted labels) → value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    found = [
        v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items()
    ]
    assert found, f"no {name} with {labels}"
    return sum(found)


async def start(tmp_path: Path, nats_url: str) -> tuple[ServiceHost, str]:
    region = new_region()
    settings = settings_for(region, tmp_path / f"{region}.db", nats_url).model_copy(
        update={"metrics_port": 0}
    )
    host = ServiceHost(DEFINITION, settings)
    await host.start()
    return host, region


async def test_rpcs_are_counted_by_method_and_code_with_their_latency(
    nats_server: Any, tmp_path: Path
) -> None:
    host, region = await start(tmp_path, nats_server.url)
    try:
        before = scrape(host.metrics_port)
        assert rpc_summary(before, before, 1.0) == "idle"
        async with tls_channel(f"127.0.0.1:{host.port}") as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            md = auth(Tokens(region).operator())
            listing = pb.ListCarriersRequest(parent=f"regions/{region}")
            for _ in range(3):
                await stub.ListCarriers(listing, metadata=md)
            await expect_error(
                stub.GetCarrier(pb.GetCarrierRequest(name="nonsense"), metadata=md),
                grpc.StatusCode.INVALID_ARGUMENT,
            )
            await expect_error(stub.ListCarriers(listing), grpc.StatusCode.UNAUTHENTICATED)
        samples = scrape(host.metrics_port)
        summary = rpc_summary(before, samples, 2.0)  # as `alliance status` shows it
        assert re.fullmatch(r"2\.5/s, 40% failed, p99 ≤ [\d.]+ ms", summary), summary
        common = {"region": region, "service": "membership", "grpc_service": SERVICE}
        assert (
            value(samples, "grpc_server_started_total", grpc_method="ListCarriers", **common) == 4
        )
        handled = "grpc_server_handled_total"
        assert value(samples, handled, grpc_method="ListCarriers", grpc_code="OK", **common) == 3
        assert (
            value(
                samples, handled, grpc_method="ListCarriers", grpc_code="UNAUTHENTICATED", **common
            )
            == 1
        )
        assert (
            value(
                samples, handled, grpc_method="GetCarrier", grpc_code="INVALID_ARGUMENT", **common
            )
            == 1
        )
        count = value(samples, "grpc_server_handling_seconds_count", grpc_method="ListCarriers",
                      **common)  # fmt: skip
        assert count == 4
        assert value(samples, "alliance_read_cache_hits_total", region=region) >= 1
        # no write yet: nothing committed by a use case, nothing published
        assert value(samples, "alliance_outbox_publish_seconds_count", region=region) == 0
        assert value(samples, "alliance_read_cache_misses_total", region=region) >= 1
        for name, _ in samples:
            labels = dict(next(ls for n, ls in samples if n == name))
            if name.startswith(("grpc_server", "alliance_")):
                assert labels.get("region") == region and labels.get("service") == "membership"
    finally:
        await host.stop()


async def test_a_write_nats_has_not_taken_shows_in_the_outbox_figures(tmp_path: Path) -> None:
    nowhere = f"nats://127.0.0.1:{free_port()}"  # nothing listens: the relay cannot publish
    host, region = await start(tmp_path, nowhere)
    try:
        async with tls_channel(f"127.0.0.1:{host.port}") as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            await stub.CreateCarrier(
                pb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier()),
                metadata=auth(Tokens(region).operator()),
            )
        for _ in range(50):  # the pipeline watch looks once a second
            samples = scrape(host.metrics_port)
            if value(samples, "alliance_outbox_backlog", region=region) == 1:
                break
            await asyncio.sleep(0.1)
        assert value(samples, "alliance_outbox_backlog", region=region) == 1
        assert value(samples, "alliance_outbox_oldest_unsent_age_seconds", region=region) > 0
        assert value(samples, "alliance_outbox_published_total", region=region) == 0
        assert value(samples, "alliance_dead_letters", region=region, origin="outbox") == 0
    finally:
        await host.stop()


async def test_a_write_is_committed_published_and_timed(nats_server: Any, tmp_path: Path) -> None:
    host, region = await start(tmp_path, nats_server.url)
    try:
        async with tls_channel(f"127.0.0.1:{host.port}") as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            md = auth(Tokens(region).operator())
            before = scrape(host.metrics_port)
            await asyncio.gather(
                *(
                    stub.CreateCarrier(
                        pb.CreateCarrierRequest(
                            parent=f"regions/{region}", carrier=sample_carrier()
                        ),
                        metadata=md,
                    )
                    for _ in range(8)
                )
            )
        for _ in range(50):
            samples = scrape(host.metrics_port)
            if value(samples, "alliance_outbox_published_total", region=region) == 8:
                break
            await asyncio.sleep(0.05)

        def grew(name: str) -> float:
            return value(samples, name, region=region) - value(before, name, region=region)

        assert grew("alliance_outbox_published_total") == 8
        assert grew("alliance_outbox_batch_events_sum") == 8, "every event in some acked batch"
        assert grew("alliance_outbox_publish_seconds_count") >= 1
        # eight creates, group-committed: as many units made durable, in as many commits or fewer
        assert grew("alliance_storage_commit_units_sum") >= 8
        assert (
            1
            <= grew("alliance_storage_commit_seconds_count")
            <= grew("alliance_storage_commit_units_sum")
        )
    finally:
        await host.stop()


async def test_events_applied_by_a_consumer_are_counted(federation: Any) -> None:
    (carrier,) = await federation.create_carriers("sh", 1)
    port = federation.regions["hz"].host.metrics_port
    for _ in range(100):
        samples = scrape(port)
        if value(samples, "alliance_consumer_applied_total", region="hz") >= 1:
            break
        await asyncio.sleep(0.1)
    assert value(samples, "alliance_consumer_applied_total", region="hz",
                 durable="membership-projection") >= 1  # fmt: skip
    assert value(samples, "alliance_consumer_apply_seconds_count", region="hz") >= 1
    assert carrier
    for _ in range(100):  # the supervisor asks each source's domain every few seconds
        samples = scrape(port)
        if value(samples, "alliance_federation_source_reachable", source_region="sh") == 1:
            break
        await asyncio.sleep(0.1)
    assert value(samples, "alliance_federation_source_reachable", source_region="sh") == 1
    assert value(samples, "alliance_federation_lag_events", source_region="zjg") == 0
    assert value(samples, "alliance_federation_source_restarts_total", source_region="sh") >= 0


def test_logs_switch_to_json_lines(nats_server: Any, tmp_path: Path) -> None:
    region = new_region()
    log = tmp_path / "membership.log"
    process = service_process(
        "membership", region, tmp_path / "m.db", nats_server.url, log, log_format="json"
    )
    with running(process):
        pass
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert entries, "the service logged nothing"
    for entry in entries:
        assert {"time", "level", "service", "region", "logger", "message"} <= entry.keys()
        assert (entry["service"], entry["region"]) == ("membership", region)
    assert any("serving on" in e["message"] for e in entries)
    assert any(e["message"].endswith("stopped") for e in entries)
