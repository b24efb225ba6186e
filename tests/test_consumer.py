"""The idempotent consumer on a real nats-server: an event delivered twice is applied once."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import nats
from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from kernel.consumer import EventConsumer
from kernel.db import Database, Migration
from kernel.events import Event, build_event
from kernel.nats_link import NatsLink
from kernel.procs import NatsServer
from kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from kernel.streams import ensure_stream, events_stream_config, events_stream_name
from kernel.unit_of_work import UnitOfWork

from tests.conftest import new_region

SEEN = Migration("seen", 1, "CREATE TABLE seen (event_id TEXT NOT NULL)")


async def test_an_event_delivered_twice_is_applied_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    region = new_region()
    events = [
        build_event(
            region=region,
            service="membership",
            entity="carrier",
            verb="registered",
            resource=f"regions/{region}/carriers/{i}",
            version=1,
            payload=ev.CarrierRegistered(carrier=pb.Carrier(display_name=f"c{i}")),
        )
        for i in range(5)
    ]
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, events_stream_config(region))
        for copy in ("first", "again"):  # a re-publish after the duplicate window: new Nats-Msg-Id
            for event in events:
                headers = {**event.headers(), "Nats-Msg-Id": f"{event.id}-{copy}"}
                await js.publish(event.subject, event.payload, headers=headers)
    finally:
        await nc.close()

    db = Database(tmp_path / "consumer.db")
    db.migrate([*KERNEL_MIGRATIONS, SEEN])

    def record(uow: UnitOfWork, event: Event) -> None:
        uow.tx.execute("INSERT INTO seen (event_id) VALUES (?)", (event.id,))

    link = NatsLink(nats_server.url, name="consumer-test")
    link.start()
    consumer = EventConsumer(
        db,
        link,
        stream=events_stream_name(region),
        durable="audit",
        handlers={events[0].type: record},
    )
    consumer.start()
    try:
        deadline = time.monotonic() + 10
        while consumer.applied + consumer.skipped < 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        rows = [r[0] for r in db.reader.execute("SELECT event_id FROM seen")]
        assert sorted(rows) == sorted(e.id for e in events), (
            "each event must be applied exactly once"
        )
        assert consumer.skipped == 5
    finally:
        await consumer.stop()
        await link.close()
        db.close()


async def test_an_event_is_applied_at_once_even_right_after_the_previous_one(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """Events come one at a time with gaps: each must be applied within milliseconds, also one
    that arrives while the consumer is between two fetches (a fetch of many once held such an
    event until its pull request expired, for most of a second)."""
    region = new_region()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_stream(js, events_stream_config(region))
    db = Database(tmp_path / "consumer.db")
    db.migrate([*KERNEL_MIGRATIONS, SEEN])
    applied_at: dict[str, float] = {}

    def record(uow: UnitOfWork, event: Event) -> None:
        applied_at[event.id] = time.monotonic()

    link = NatsLink(nats_server.url, name="consumer-test")
    link.start()
    sample = build_event(
        region=region,
        service="membership",
        entity="carrier",
        verb="registered",
        resource=f"regions/{region}/carriers/x",
        version=1,
        payload=ev.CarrierRegistered(carrier=pb.Carrier(display_name="c")),
    )
    consumer = EventConsumer(
        db,
        link,
        stream=events_stream_name(region),
        durable="latency",
        handlers={sample.type: record},
        filter_subjects=[f"alliance.{region}.membership.carrier.>", "alliance.other.>"],
    )
    consumer.start()
    waits = []
    gc.collect()
    gc.disable()  # a collection of this test process's heap could pause it for 100 ms or more
    try:
        for i in range(50):
            if i % 5 == 0:
                await asyncio.sleep(1.1)  # idle: the consumer waits in long pulls
            event = build_event(
                region=region,
                service="membership",
                entity="carrier",
                verb="registered",
                resource=f"regions/{region}/carriers/{i}",
                version=1,
                payload=ev.CarrierRegistered(carrier=pb.Carrier(display_name=f"c{i}")),
            )
            await js.publish(event.subject, event.payload, headers=event.headers())
            published = time.monotonic()  # stored: a slow fsync of the stream does not count
            while event.id not in applied_at and time.monotonic() - published < 5:
                await asyncio.sleep(0.0005)
            assert event.id in applied_at, f"event {i} was never applied"
            waits.append(applied_at[event.id] - published)
            await asyncio.sleep(0.001 * (i % 5))  # the next one while the consumer fetches again
    finally:
        gc.enable()
        await consumer.stop()
        await link.close()
        await nc.close()
        db.close()
    assert max(waits) < 0.4, f"slowest event waited {max(waits) * 1000:.0f} ms"
