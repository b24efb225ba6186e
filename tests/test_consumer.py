"""The idempotent consumer on a real nats-server: an event delivered twice is applied once."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from pathlib import Path

import nats
import pytest
from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from nats.js.errors import NotFoundError
from yrd_alliance.deployment.postgres_server import PostgresServer, postgres_bin
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel import dead_letters
from yrd_alliance.kernel.consumer import EventConsumer
from yrd_alliance.kernel.db import Database, Migration
from yrd_alliance.kernel.dead_letters import Origin
from yrd_alliance.kernel.errors import FailedPrecondition
from yrd_alliance.kernel.events import Event, build_event
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.schema import MIGRATIONS as KERNEL_MIGRATIONS
from yrd_alliance.kernel.streams import ensure_stream, events_stream_config, events_stream_name
from yrd_alliance.kernel.unit_of_work import UnitOfWork

from tests.conftest import new_region, read_rows

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
            payload=ev.CarrierRegistered(
                carrier=pb.Carrier(name=f"regions/{region}/carriers/{i}", display_name=f"c{i}")
            ),
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
        payload=ev.CarrierRegistered(carrier=pb.Carrier(name=f"regions/{region}/carriers/x")),
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
                payload=ev.CarrierRegistered(
                    carrier=pb.Carrier(name=f"regions/{region}/carriers/{i}", display_name=f"c{i}")
                ),
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


def _carrier_event(region: str, index: int) -> Event:
    return build_event(
        region=region,
        service="membership",
        entity="carrier",
        verb="registered",
        resource=f"regions/{region}/carriers/{index}",
        version=1,
        payload=ev.CarrierRegistered(carrier=pb.Carrier(name=f"regions/{region}/carriers/{index}")),
    )


async def _until(what: str, ok: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while not ok():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_failing_event_is_set_aside_then_replayed_once_after_the_fix(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    region = new_region()
    events = [_carrier_event(region, i) for i in range(3)]
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, events_stream_config(region))
        for event in events:
            await js.publish(event.subject, event.payload, headers=event.headers())
    finally:
        await nc.close()
    db = Database(tmp_path / "consumer.db")
    db.migrate([*KERNEL_MIGRATIONS, SEEN])
    broken = {events[1].id}  # a handler that fails on this event until it is "fixed"

    def record(uow: UnitOfWork, event: Event) -> None:
        uow.tx.execute("INSERT INTO seen (event_id) VALUES (?)", (event.id,))
        if event.id in broken:
            raise RuntimeError("the directory has no such carrier yet")

    link = NatsLink(nats_server.url, name="consumer-test")
    link.start()
    consumer = EventConsumer(
        db,
        link,
        stream=events_stream_name(region),
        durable="replayed",
        handlers={events[0].type: record},
        max_deliver=3,
        retry_base_s=0.05,
    )
    consumer.start()
    try:
        await _until("set aside", lambda: dead_letters.counts(db.reader)[Origin.CONSUMER] == 1)
        seen = [r[0] for r in db.reader.execute("SELECT event_id FROM seen")]
        assert seen == [events[0].id, events[2].id], "the failing event's effects rolled back"
        (letter,) = dead_letters.page(db.reader, after_id=0, limit=10)
        assert (letter.event_id, letter.deliveries) == (events[1].id, 3)
        assert "no such carrier" in letter.error and consumer.retried == 2

        with pytest.raises(FailedPrecondition):  # not fixed yet: it stays, counted
            await consumer.replay(letter)
        assert dead_letters.get(db.reader, letter.id).deliveries == 4  # type: ignore[union-attr]

        broken.clear()
        await consumer.replay(letter)
        assert dead_letters.get(db.reader, letter.id) is None
        await consumer.replay(letter)  # a second replay of the same event applies nothing
        seen = [r[0] for r in db.reader.execute("SELECT event_id FROM seen")]
        assert sorted(seen) == sorted(e.id for e in events), "each applied exactly once"
    finally:
        await consumer.stop()
        await link.close()
        db.close()


async def test_a_longer_federation_list_consumes_the_new_region_from_the_start(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """A durable made for region a, restarted for a and b, applies what b had stored before."""
    a, b = new_region(), new_region()
    old, new = [_carrier_event(a, i) for i in range(5)], [_carrier_event(b, i) for i in range(5)]
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    stream = f"MIXED_{a.upper()}"
    await js.add_stream(name=stream, subjects=[f"alliance.{a}.>", f"alliance.{b}.>"])
    for event in new + old:  # b's history is stored first, before the consumer learns of b
        await js.publish(event.subject, event.payload, headers=event.headers())
    db = Database(tmp_path / "consumer.db")
    db.migrate([*KERNEL_MIGRATIONS, SEEN])

    def record(uow: UnitOfWork, event: Event) -> None:
        uow.tx.execute("INSERT INTO seen (event_id) VALUES (?)", (event.id,))

    link = NatsLink(nats_server.url, name="consumer-test")
    link.start()

    def consumer_for(*regions: str, ack_wait_s: float = 30.0) -> EventConsumer:
        return EventConsumer(
            db,
            link,
            stream=stream,
            durable="directory",
            handlers={old[0].type: record},
            filter_subjects=[f"alliance.{r}.membership.carrier.>" for r in regions],
            ack_wait_s=ack_wait_s,
        )

    try:
        first = consumer_for(a)
        first.start()
        await _until("a's events", lambda: first.applied == 5)
        await first.stop()

        second = consumer_for(a, b, ack_wait_s=20.0)
        second.start()
        await _until("b's history", lambda: second.applied == 5 and second.skipped == 5)
        await second.stop()
        info = await js.consumer_info(stream, "directory")
        assert sorted(info.config.filter_subjects or []) == sorted(
            f"alliance.{r}.membership.carrier.>" for r in (a, b)
        )
        seen = sorted(r[0] for r in db.reader.execute("SELECT event_id FROM seen"))
        assert seen == sorted(e.id for e in old + new), "every event once"

        third = consumer_for(a, b, ack_wait_s=10.0)  # same filter, another ack wait
        await third.reconcile(js)
        info = await js.consumer_info(stream, "directory")
        assert info.config.ack_wait == 10.0 and info.num_pending == 0, "updated in place"
    finally:
        await link.close()
        await nc.close()
        db.close()


async def test_a_durable_reconciled_with_the_same_settings_is_kept_with_its_place(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """With no filter as with one, reconciling unchanged settings keeps the durable: it was
    made again, from the start of the stream, each time a filterless consumer started."""
    region = new_region()
    stream = events_stream_name(region)
    nc = await nats.connect(nats_server.url)
    db = Database(tmp_path / "consumer.db")
    try:
        js = nc.jetstream()
        await ensure_stream(js, events_stream_config(region))
        event = _carrier_event(region, 0)
        await js.publish(event.subject, event.payload, headers=event.headers())
        link = NatsLink(nats_server.url, name="consumer-test")
        for durable, filters in (("plain", []), ("filtered", [f"alliance.{region}.>"])):
            consumer = EventConsumer(
                db, link, stream=stream, durable=durable, handlers={}, filter_subjects=filters
            )
            await consumer.reconcile(js)
            made = await js.consumer_info(stream, durable)
            await consumer.reconcile(js)
            again = await js.consumer_info(stream, durable)
            assert again.created == made.created, f"{durable}: made again"
    finally:
        await nc.close()
        db.close()


async def test_a_consumer_stopped_as_it_starts_stops_at_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """A stop that came while the consumer asked the server for its durable could lose its
    cancel (Python 3.11's wait_for, when the answer came at the same moment); the consumer then
    read on until the stop gave up waiting, 5 s later."""
    region = new_region()
    nc = await nats.connect(nats_server.url)
    await ensure_stream(nc.jetstream(), events_stream_config(region))
    db = Database(tmp_path / "consumer.db")
    db.migrate(KERNEL_MIGRATIONS)
    link = NatsLink(nats_server.url, name="consumer-test")
    link.start()
    try:
        await link.jetstream()
        slowest = 0.0
        for attempt in range(40):
            consumer = EventConsumer(
                db, link, stream=events_stream_name(region), durable="quick", handlers={}
            )
            consumer.start()
            await asyncio.sleep(0.0005 * (attempt % 8))
            began = time.monotonic()
            await consumer.stop()
            slowest = max(slowest, time.monotonic() - began)
        assert slowest < 1.0, f"a stop took {slowest:.2f} s"
    finally:
        await link.close()
        await nc.close()
        db.close()


async def test_a_consumer_stopped_while_events_arrive_leaves_none_delivered_and_unacked(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """A stop that cancelled the fetch under way left the event the server then sent it
    delivered to no one: it waited out the ack wait before any consumer saw it again."""
    region = new_region()
    stream = events_stream_name(region)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_stream(js, events_stream_config(region))
    db = Database(tmp_path / "consumer.db")
    db.migrate([*KERNEL_MIGRATIONS, SEEN])
    link = NatsLink(nats_server.url, name="consumer-test")
    link.start()
    published = 0
    done = asyncio.Event()  # a cancel can be lost in a publish (3.11's wait_for)

    async def publish() -> None:
        nonlocal published
        while not done.is_set():
            event = _carrier_event(region, published)
            await js.publish(event.subject, event.payload, headers=event.headers())
            published += 1
            await asyncio.sleep(0.005)

    def record(uow: UnitOfWork, event: Event) -> None:
        uow.tx.execute("INSERT INTO seen (event_id) VALUES (?)", (event.id,))

    def seen() -> int:
        return int(db.reader.execute("SELECT count(*) FROM seen").fetchone()[0])

    kind = _carrier_event(region, 0).type
    publisher = asyncio.create_task(publish())
    try:
        for stop in range(5):
            consumer = EventConsumer(
                db, link, stream=stream, durable="audit", handlers={kind: record}, ack_wait_s=60.0
            )
            consumer.start()
            await _until("events applied", lambda c=consumer: c.applied > 0)
            await asyncio.sleep(0.1 + 0.1 * stop)
            began = time.monotonic()
            await consumer.stop()
            stopped_in = time.monotonic() - began
            await asyncio.sleep(0.3)  # events go on arriving; none may go to the stopped one
            info = await js.consumer_info(stream, "audit")
            assert info.num_ack_pending == 0, f"stop {stop}: {info.num_ack_pending} unacked"
            assert stopped_in < 0.5, f"stop {stop} took {stopped_in:.2f} s"
        done.set()
        await publisher
        stored = (await js.stream_info(stream)).state.last_seq
        consumer = EventConsumer(db, link, stream=stream, durable="audit", handlers={kind: record})
        consumer.start()
        await _until("the rest applied", lambda: seen() == stored)
        began = time.monotonic()
        await consumer.stop()  # idle: its pull request is open, and no event comes
        assert time.monotonic() - began < 0.5, "an idle consumer stops at once"
        info = await js.consumer_info(stream, "audit")
        assert seen() == info.ack_floor.stream_seq == stored, "each event applied once"
    finally:
        done.set()
        await asyncio.gather(publisher, return_exceptions=True)
        await link.close()
        await nc.close()
        db.close()


@pytest.mark.slow
async def test_events_held_while_the_database_was_down_are_applied_soon_after_it_is_back(
    nats_server: NatsServer,
) -> None:
    """The consumer gives back what it held when its commit failed: once PostgreSQL is back the
    events are applied within seconds, not after the 30 s ack wait."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    server = PostgresServer()  # its own: this test kills it
    server.start()
    server.wait_ready()
    region = new_region()
    stream = events_stream_name(region)
    nc = await nats.connect(nats_server.url)
    link = NatsLink(nats_server.url, name="consumer-test")
    url = server.create_database("consumer")
    db = Database(url)
    consumer: EventConsumer | None = None
    try:
        js = nc.jetstream()
        await ensure_stream(js, events_stream_config(region))
        db.migrate([*KERNEL_MIGRATIONS, SEEN])
        link.start()

        def record(uow: UnitOfWork, event: Event) -> None:
            uow.tx.execute("INSERT INTO seen (event_id) VALUES (?)", (event.id,))

        consumer = EventConsumer(
            db,
            link,
            stream=stream,
            durable="audit",
            handlers={_carrier_event(region, 0).type: record},
            filter_subjects=[f"alliance.{region}.>"],  # as a service's: reconciled, never re-made
        )
        consumer.start()

        async def publish(indexes: range) -> None:
            for i in indexes:
                event = _carrier_event(region, i)
                await js.publish(event.subject, event.payload, headers=event.headers())

        async def settled() -> tuple[int, int]:
            """Events committed, and events acked."""
            try:
                acked = (await js.consumer_info(stream, "audit")).ack_floor.stream_seq
            except NotFoundError:  # not made yet
                acked = 0
            return read_rows(url, "SELECT count(*) FROM seen")[0][0], acked

        async def until_settled(events: int, within_s: float) -> None:
            deadline = time.monotonic() + within_s
            while (now := await settled()) != (events, events):
                assert time.monotonic() < deadline, f"committed and acked: {now} of {events}"
                await asyncio.sleep(0.05)

        await publish(range(1))
        await until_settled(1, within_s=10.0)
        server.kill()
        await publish(range(1, 21))
        for _ in range(100):  # the consumer holds them, and fails to apply them
            if (await js.consumer_info(stream, "audit")).delivered.stream_seq >= 21:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        server.resume()
        server.wait_ready()
        await until_settled(21, within_s=10.0)
        assert (await js.consumer_info(stream, "audit")).num_ack_pending == 0
    finally:
        try:
            if consumer is not None:
                await consumer.stop()
            await link.close()
            await nc.close()
            db.close()
        finally:
            server.stop()
