"""Failure injection with real processes: NATS down under writes, the service SIGKILLed under
concurrent writes. Nothing acknowledged is lost; no event is applied twice."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from pathlib import Path

import grpc
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.consumer import EventConsumer
from yrd_alliance.kernel.db import Database, Migration
from yrd_alliance.kernel.events import Event
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.streams import events_stream_name
from yrd_alliance.kernel.unit_of_work import UnitOfWork
from yrd_alliance.membership.app import DEFINITION

from tests.conftest import (
    Tokens,
    auth,
    new_region,
    read_events,
    sample_carrier,
    settings_for,
    tls_channel,
)
from tests.service_process import membership_process

pytestmark = pytest.mark.slow


def _nats(tmp_path: Path, port: int | None = None) -> NatsServer:
    server = NatsServer(tmp_path / "js", port=port, log_path=tmp_path / "nats.log")
    server.start()
    server.wait_ready()
    return server


async def test_writes_succeed_while_nats_is_down_and_every_event_arrives_once(
    tmp_path: Path,
) -> None:
    nats_server = _nats(tmp_path)
    region = new_region()
    host = ServiceHost(DEFINITION, settings_for(region, tmp_path / "m.db", nats_server.url))
    port = await host.start()
    channel = tls_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.MembershipServiceStub(channel)
    md = auth(Tokens(region).operator())
    parent = f"regions/{region}"
    names: list[str] = []
    try:
        for _ in range(20):
            names.append(
                (
                    await stub.CreateCarrier(
                        pb.CreateCarrierRequest(parent=parent, carrier=sample_carrier()),
                        metadata=md,
                    )
                ).name
            )
        assert len(await read_events(nats_server.url, region, expected=20)) == 20
        nats_server.stop()
        for _ in range(100):  # every write still succeeds: the outbox holds the events
            reply = await stub.CreateCarrier(
                pb.CreateCarrierRequest(parent=parent, carrier=sample_carrier()),
                metadata=md,
                timeout=5,
            )
            names.append(reply.name)
        assert host.runtime is not None and host.runtime.relay.backlog()[0] == 100
        nats_server = NatsServer(
            tmp_path / "js", port=nats_server.port, log_path=tmp_path / "nats.log"
        )
        nats_server.start()
        nats_server.wait_ready()
        events = await read_events(nats_server.url, region, expected=120, wait_s=30)
        assert [e.resource for e in events] == names, "lost, duplicated or reordered"
        assert len({e.id for e in events}) == 120
    finally:
        await channel.close()
        await host.stop()
        nats_server.stop()


PROJECTION = Migration(
    "projection", 1, "CREATE TABLE seen (event_id TEXT NOT NULL, resource TEXT NOT NULL)"
)


def _count(db: Database) -> int:
    return int(db.conn.execute("SELECT count(*) FROM seen").fetchone()[0])


async def _writer(target: str, region: str, acknowledged: list[str], stop: asyncio.Event) -> int:
    """Creates carriers one after another; retries each with its request_id until it is acked."""
    md = auth(Tokens(region).operator())
    retries = 0
    async with tls_channel(target) as channel:
        stub = pb_grpc.MembershipServiceStub(channel)
        while not stop.is_set():
            request = pb.CreateCarrierRequest(
                parent=f"regions/{region}", carrier=sample_carrier(), request_id=str(uuid.uuid4())
            )
            while True:
                try:
                    reply = await stub.CreateCarrier(
                        request, metadata=md, timeout=2, wait_for_ready=True
                    )
                    acknowledged.append(reply.name)
                    break
                except grpc.aio.AioRpcError as error:
                    assert error.code() in (
                        grpc.StatusCode.UNAVAILABLE,
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        grpc.StatusCode.CANCELLED,
                    ), error
                    retries += 1
                    await asyncio.sleep(0.05)
    return retries


async def test_sigkill_under_concurrent_writes_loses_nothing_and_applies_nothing_twice(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    region = new_region()
    service = membership_process(region, tmp_path / "m.db", nats_server.url, tmp_path / "m.log")
    consumer_db = Database(tmp_path / "consumer.db")
    consumer_db.migrate([*KERNEL_MIGRATIONS, PROJECTION])

    def record(uow: UnitOfWork, event: Event) -> None:
        uow.tx.execute(
            "INSERT INTO seen (event_id, resource) VALUES (?, ?)", (event.id, event.resource)
        )

    link = NatsLink(nats_server.url, name="test-consumer")
    link.start()

    def new_consumer() -> EventConsumer:
        return EventConsumer(
            consumer_db,
            link,
            stream=events_stream_name(region),
            durable="audit",
            handlers={"cn.yrd.alliance.membership.v1.CarrierRegistered": record},
            batch=32,
            ack_wait_s=2.0,
        )

    acknowledged: list[str] = []
    stop = asyncio.Event()
    service.start()
    service.wait_ready()
    consumer = new_consumer()
    consumer.start()
    writers = [
        asyncio.create_task(_writer(service.target, region, acknowledged, stop)) for _ in range(8)
    ]
    try:
        for round_ in range(5):
            await asyncio.sleep(0.6)
            service.kill()
            if round_ == 2:  # the consumer dies too: redelivered events must be skipped
                await consumer.stop()
                consumer = new_consumer()
                consumer.start()
            await asyncio.sleep(0.1)
            service.start()
            await asyncio.to_thread(service.wait_ready)
        await asyncio.sleep(0.5)
        stop.set()
        retries = sum(await asyncio.gather(*writers))
        assert retries > 0, "the kills never interrupted a write; the test proves nothing"
        assert len(acknowledged) > 50

        async with service.grpc.aio_channel() as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            md = auth(Tokens(region).operator())
            stored, token = [], ""
            while True:
                page = await stub.ListCarriers(
                    pb.ListCarriersRequest(
                        parent=f"regions/{region}", page_size=1000, page_token=token
                    ),
                    metadata=md,
                )
                stored += [c.name for c in page.carriers]
                token = page.next_page_token
                if not token:
                    break
        assert set(acknowledged) <= set(stored), "an acknowledged write was lost"
        assert len(set(acknowledged)) == len(acknowledged), (
            "a retried request_id created a second carrier"
        )

        deadline = time.monotonic() + 30
        while _count(consumer_db) < len(stored) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)  # let any duplicate that is still in flight show up
        rows = consumer_db.conn.execute("SELECT event_id, resource FROM seen").fetchall()
        applied_ids = [r["event_id"] for r in rows]
        assert len(applied_ids) == len(set(applied_ids)), "an event was applied twice"
        assert sorted(r["resource"] for r in rows) == sorted(stored), "an event was lost or extra"
    finally:
        stop.set()
        for task in writers:
            task.cancel()
        await consumer.stop()
        await link.close()
        consumer_db.close()
        service.stop()


async def test_sigterm_drains_in_flight_calls_and_flushes_the_outbox(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    region = new_region()
    service = membership_process(region, tmp_path / "m.db", nats_server.url, tmp_path / "m.log")
    service.start()
    await asyncio.to_thread(service.wait_ready)
    md = auth(Tokens(region).operator())
    results: list[object] = []

    async def keep_writing(stub: pb_grpc.MembershipServiceStub) -> None:
        """Writes until the service refuses, so calls are in flight whenever the signal lands."""
        request = pb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier())
        while True:
            try:
                results.append(await stub.CreateCarrier(request, metadata=md, timeout=10))
            except grpc.aio.AioRpcError as error:
                results.append(error)
                return

    async with service.grpc.aio_channel() as channel:
        writers = [
            asyncio.create_task(keep_writing(pb_grpc.MembershipServiceStub(channel)))
            for _ in range(16)
        ]
        await asyncio.sleep(0.5)
        service.signal_group(15)  # SIGTERM
        await asyncio.wait_for(asyncio.gather(*writers), timeout=30)
    assert service.proc is not None
    assert await asyncio.to_thread(service.proc.wait, 30) == 0, "a clean stop exits 0"
    acked = [r.name for r in results if isinstance(r, pb.Carrier)]
    refused = [r for r in results if not isinstance(r, pb.Carrier)]
    codes = {r.code() if isinstance(r, grpc.aio.AioRpcError) else repr(r) for r in refused}
    # calls that arrive once the server stops taking new ones are refused, never half-done
    assert codes <= {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}, codes
    assert acked and len(refused) == 16, "every writer ends on a clean refusal"
    with sqlite3.connect(tmp_path / "m.db") as conn:
        unsent = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM carriers").fetchone()[0]
    assert unsent == 0, "the outbox was not flushed before exit"
    events = await read_events(nats_server.url, region, expected=stored)
    assert set(acked) <= {e.resource for e in events}


async def test_sigterm_while_nats_is_down_stops_cleanly_and_keeps_the_events(
    tmp_path: Path,
) -> None:
    """A region's NATS has died and its operator restarts the service: the stop must not trip
    over the dead connection, and the events it could not publish stay in the outbox."""
    nats_server = _nats(tmp_path)
    region = new_region()
    service = membership_process(region, tmp_path / "m.db", nats_server.url, tmp_path / "m.log")
    service.start()
    try:
        await asyncio.to_thread(service.wait_ready)
        async with service.grpc.aio_channel() as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            request = pb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier())
            await stub.CreateCarrier(request, metadata=auth(Tokens(region).operator()))
            assert len(await read_events(nats_server.url, region, expected=1)) == 1
            nats_server.stop()
            await asyncio.sleep(0.5)
            written = await stub.CreateCarrier(request, metadata=auth(Tokens(region).operator()))
        service.signal_group(15)  # SIGTERM
        assert service.proc is not None
        assert await asyncio.to_thread(service.proc.wait, 30) == 0, "a clean stop exits 0"
    finally:
        service.stop()
        nats_server.stop()
    with sqlite3.connect(tmp_path / "m.db") as conn:
        unsent = conn.execute("SELECT headers FROM outbox WHERE sent_at IS NULL").fetchall()
    waiting = {json.loads(headers)["ce-subject"] for (headers,) in unsent}
    assert written.name in waiting, "the event written while NATS was down waits in the outbox"


async def test_a_service_started_before_its_nats_serves_and_publishes_once_nats_is_up(
    tmp_path: Path,
) -> None:
    """Regions come up in any order: a service whose NATS is not there yet still serves and
    takes writes; their events go out once NATS starts."""
    port = free_port()
    region = new_region()
    service = membership_process(
        region, tmp_path / "m.db", f"nats://127.0.0.1:{port}", tmp_path / "m.log"
    )
    service.start()
    nats_server: NatsServer | None = None
    try:
        await asyncio.to_thread(service.wait_ready)
        async with service.grpc.aio_channel() as channel:
            stub = pb_grpc.MembershipServiceStub(channel)
            md = auth(Tokens(region).operator())
            names = [
                (
                    await stub.CreateCarrier(
                        pb.CreateCarrierRequest(
                            parent=f"regions/{region}", carrier=sample_carrier()
                        ),
                        metadata=md,
                        timeout=5,
                    )
                ).name
                for _ in range(3)
            ]
        await asyncio.sleep(3)  # longer than one connect attempt (2 s): the service must retry
        nats_server = _nats(tmp_path, port=port)
        events = await read_events(nats_server.url, region, expected=3, wait_s=30)
        assert [e.resource for e in events] == names
    finally:
        service.stop()
        if nats_server is not None:
            nats_server.stop()
