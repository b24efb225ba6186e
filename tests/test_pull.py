"""A pull consumer's inbox on a real nats-server: batches, and a close that leaves the server
with no open request and no event delivered to no one."""

from __future__ import annotations

import nats
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.pull import PullInbox

from tests.conftest import new_region


async def _stream_with_consumer(nc: Client, events: int) -> tuple[str, str]:
    region = new_region()
    stream, subject = f"PULL_{region}", f"pull.{region}"
    js = nc.jetstream()
    await js.add_stream(name=stream, subjects=[subject])
    await js.add_consumer(
        stream, ConsumerConfig(durable_name="reader", ack_policy=AckPolicy.EXPLICIT, ack_wait=60)
    )
    for i in range(events):
        await js.publish(subject, str(i).encode())
    return stream, subject


async def test_a_backlog_comes_in_batches_no_larger_than_asked_each_event_once(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        stream, _ = await _stream_with_consumer(nc, 600)
        inbox = PullInbox(nc, stream=stream, durable="reader", batch=100)
        await inbox.open()
        sizes: list[int] = []
        seen: list[bytes] = []
        while len(seen) < 600:
            batch = await inbox.next_batch()
            sizes.append(len(batch))
            for message in batch:
                seen.append(message.data)
                await message.ack()
        await inbox.close()
        assert sorted(seen) == sorted(str(i).encode() for i in range(600)), "each event once"
        assert max(sizes) <= 100, sizes
        assert len([size for size in sizes if size > 1]) >= 3, f"not batched: {sizes}"
        assert await inbox.next_batch() == [] and inbox.closed
    finally:
        await nc.close()


async def test_a_closed_inbox_leaves_no_request_open_and_hands_out_what_came_before(
    nats_server: NatsServer,
) -> None:
    nc = await nats.connect(nats_server.url)
    publisher = await nats.connect(nats_server.url)
    try:
        stream, subject = await _stream_with_consumer(nc, 0)
        js = nc.jetstream()
        inbox = PullInbox(nc, stream=stream, durable="reader", batch=10)
        await inbox.open()
        assert await inbox.next_batch() == [], "nothing stored: the request ends empty"
        await publisher.jetstream().publish(subject, b"before")
        first = await inbox.next_batch()  # the next request is open at the server
        assert [message.data for message in first] == [b"before"]
        await first[0].ack()
        assert (await js.consumer_info(stream, "reader")).num_waiting == 1

        await inbox.close()
        info = await js.consumer_info(stream, "reader")
        assert info.num_waiting == 0, "the server dropped the open request"
        await publisher.jetstream().publish(subject, b"after")
        info = await js.consumer_info(stream, "reader")
        assert (info.num_pending, info.num_ack_pending) == (1, 0), "sent to no one: still there"
        assert await inbox.next_batch() == [] and inbox.closed
    finally:
        await publisher.close()
        await nc.close()
