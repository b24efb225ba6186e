"""Consumer benchmark: how fast a service's consumer works through a backlog of events.

  backlog   EVENTS events wait in a region's stream; a new durable consumer reads them all
  service   the EventConsumer: each batch applied in one transaction (a row per event and its
            id in applied_events, each event in its own savepoint), committed, then acked
  baseline  a plain nats-py pull consumer on the same stream that fetches 256 at a time and
            acks each event, and does nothing else

The two alternate, each with a durable of its own, for --rounds rounds; the table shows the
median round of each.

Run: make bench   (about half a minute; prints a markdown table for the README)
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nats
from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.consumer import EventConsumer
from yrd_alliance.kernel.db import Database, Migration
from yrd_alliance.kernel.events import Event, build_event
from yrd_alliance.kernel.nats_link import NatsLink
from yrd_alliance.kernel.schema import MIGRATIONS
from yrd_alliance.kernel.streams import ensure_stream, events_stream_config, events_stream_name
from yrd_alliance.kernel.unit_of_work import UnitOfWork

from bench.harness import arguments, machine, scratch, start

REGION = "bench"
EVENTS = 50_000
APPLIED = Migration("bench_applied", 1, "CREATE TABLE bench_applied (event_id TEXT NOT NULL)")


def _event(index: int) -> Event:
    name = f"regions/{REGION}/carriers/{index}"
    return build_event(
        region=REGION,
        service="membership",
        entity="carrier",
        verb="registered",
        resource=name,
        version=1,
        payload=ev.CarrierRegistered(carrier=pb.Carrier(name=name, display_name=f"c{index}")),
    )


async def _fill(js: JetStreamContext, events: int) -> None:
    await ensure_stream(js, events_stream_config(REGION))
    for start_at in range(0, events, 1000):  # a thousand publishes in flight at a time
        batch = [_event(i) for i in range(start_at, min(start_at + 1000, events))]
        await asyncio.gather(
            *(js.publish(e.subject, e.payload, headers=e.headers()) for e in batch)
        )


async def _service(url: str, folder: Path, durable: str, events: int) -> float:
    db = Database(folder / f"{durable}.db")
    db.migrate([*MIGRATIONS, APPLIED])
    link = NatsLink(url, name=durable)
    link.start()

    def record(uow: UnitOfWork, event: Event) -> None:
        uow.tx.execute("INSERT INTO bench_applied (event_id) VALUES (?)", (event.id,))

    consumer = EventConsumer(
        db, link, stream=events_stream_name(REGION), durable=durable,
        handlers={_event(0).type: record},
    )  # fmt: skip
    began = time.perf_counter()
    consumer.start()
    try:
        while consumer.applied < events:
            await asyncio.sleep(0.002)
        return time.perf_counter() - began
    finally:
        await consumer.stop()
        await link.close()
        db.close()


async def _baseline(js: JetStreamContext, durable: str, events: int) -> float:
    stream = events_stream_name(REGION)
    await js.add_consumer(
        stream, ConsumerConfig(durable_name=durable, ack_policy=AckPolicy.EXPLICIT)
    )
    began = time.perf_counter()
    subscription = await js.pull_subscribe_bind(durable=durable, stream=stream)
    acked = 0
    while acked < events:
        try:
            messages = await subscription.fetch(256, timeout=1.0)
        except NatsTimeoutError:
            continue
        for message in messages:
            await message.ack()
        acked += len(messages)
    took = time.perf_counter() - began
    await subscription.unsubscribe()
    return took


async def run(rounds: int, events: int) -> list[str]:
    work = scratch("alliance-consumer-bench-")
    server = NatsServer(work / "js", log_path=work / "nats.log")
    start(server, server.wait_ready)
    client = await nats.connect(server.url)
    try:
        js = client.jetstream()
        await _fill(js, events)
        service: list[float] = []
        baseline: list[float] = []
        for round_ in range(rounds):
            baseline.append(await _baseline(js, f"baseline{round_}", events))
            service.append(await _service(server.url, work, f"service{round_}", events))
            print(
                f"round {round_ + 1}: service {events / service[-1]:,.0f}/s, "
                f"baseline {events / baseline[-1]:,.0f}/s",
                flush=True,
            )
    finally:
        await client.close()
        server.stop()
    s, b = sorted(service)[len(service) // 2], sorted(baseline)[len(baseline) // 2]
    return [
        f"| backlog of {events:,} events | applied | rate | plain fetch-and-ack | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| EventConsumer (median of {rounds}) | {s:.2f} s | {events / s:,.0f}/s "
        f"| {events / b:,.0f}/s | **{b / s:.2f}×** |",
    ]


def main() -> None:
    parser = arguments(__doc__, rounds=3)
    parser.add_argument("--events", type=int, default=EVENTS, help="events in the backlog")
    args = parser.parse_args()
    print("\n".join(asyncio.run(run(args.rounds, args.events))))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
