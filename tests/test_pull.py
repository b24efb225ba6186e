"""A pull consumer's inbox on a real nats-server: batches, and a close that leaves the server
with no open request and no event delivered to no one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig
from yrd_alliance.deployment.ports import LOOPBACK, free_port
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.pull import PullInbox

from tests.conftest import new_region


@pytest.fixture(scope="module")
def leaf_enabled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A server that takes leaf links, as every region's does: it keeps sending to a pull
    request whose listener went for the request's first 2 s."""
    home = tmp_path_factory.mktemp("leafy")
    port, monitor_port, leaf_port = free_port(), free_port(), free_port()
    config = home / "nats.conf"
    config.write_text(
        f"listen: {LOOPBACK}:{port}\nhttp: {LOOPBACK}:{monitor_port}\nserver_name: leafy\n"
        f'jetstream {{ store_dir: "{home / "js"}" }}\n'
        f"leafnodes {{ listen: {LOOPBACK}:{leaf_port} }}\n"
    )
    server = NatsServer(
        home / "js", port=port, monitor_port=monitor_port, config=config, log_path=home / "log"
    )
    server.start()
    server.wait_ready()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def _own_server(home: Path) -> AsyncIterator[tuple[NatsServer, Client]]:
    """A nats-server of the test's own, for killing, and a client that reconnects to it."""
    server = NatsServer(home / "js", log_path=home / "nats.log")
    server.start()
    server.wait_ready()
    nc: Client | None = None
    try:
        nc = await nats.connect(server.url, reconnect_time_wait=0.1, max_reconnect_attempts=-1)
        yield server, nc
    finally:
        server.stop()  # first: a close that fails must not leave it running
        if nc is not None:
            await nc.close()


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


async def _rest(inbox: PullInbox) -> list[Msg]:
    """What a closed inbox still hands out, until it is done."""
    rest: list[Msg] = []
    async with asyncio.timeout(2):
        while not inbox.closed:
            rest += await inbox.next_batch()
    return rest


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
        inbox.close()
        assert await _rest(inbox) == [] and inbox.closed
        assert sorted(seen) == sorted(str(i).encode() for i in range(600)), "each event once"
        assert max(sizes) <= 100, sizes
        assert len([size for size in sizes if size > 1]) >= 3, f"not batched: {sizes}"
    finally:
        await nc.close()


@pytest.mark.parametrize("kind", ["plain", "leaf enabled"])
async def test_a_closed_inbox_leaves_no_request_open_and_hands_out_what_came_before(
    kind: str, request: pytest.FixtureRequest
) -> None:
    server: NatsServer = request.getfixturevalue(
        "nats_server" if kind == "plain" else "leaf_enabled_server"
    )
    nc = await nats.connect(server.url)
    publisher = await nats.connect(server.url)
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

        inbox.close()
        await publisher.jetstream().publish(subject, b"during")  # the open request's to bring
        rest = await _rest(inbox)
        assert [message.data for message in rest] == [b"during"]
        await rest[0].ack()
        info = await js.consumer_info(stream, "reader")
        assert info.num_waiting == 0, "no request open after the close"
        await publisher.jetstream().publish(subject, b"after")
        info = await js.consumer_info(stream, "reader")
        assert (info.num_pending, info.num_ack_pending) == (1, 0), "sent to no one: still there"
        assert await inbox.next_batch() == []
    finally:
        await publisher.close()
        await nc.close()


async def test_inboxes_closed_while_events_stream_in_leave_none_delivered_to_no_one(
    nats_server: NatsServer,
) -> None:
    """The server sends an event to a request on a thread of its own, so unsubscribing from a
    request still open let an event go out to no one now and then: delivered, and unacked until
    the ack wait ran out."""
    nc = await nats.connect(nats_server.url)
    publisher = await nats.connect(nats_server.url)

    done = asyncio.Event()  # a cancel can be lost in a publish (3.11's wait_for)

    async def publish(subject: str) -> None:
        published = 0
        while not done.is_set():
            await publisher.jetstream().publish(subject, str(published).encode())
            published += 1

    flowing: asyncio.Task[None] | None = None
    try:
        stream, subject = await _stream_with_consumer(nc, 0)
        js = nc.jetstream()
        flowing = asyncio.create_task(publish(subject))
        for close in range(60):
            inbox = PullInbox(nc, stream=stream, durable="reader", batch=20)
            await inbox.open()
            received = await inbox.next_batch()
            inbox.close()  # events are on their way to the open request
            received += await _rest(inbox)
            for message in received:
                await message.ack_sync()
            info = await js.consumer_info(stream, "reader")
            assert info.num_ack_pending == 0, f"close {close}: {info.num_ack_pending} unacked"
            assert info.num_waiting == 0, f"close {close}: a request left open"
    finally:
        done.set()
        if flowing is not None:
            await asyncio.gather(flowing, return_exceptions=True)
        await publisher.close()
        await nc.close()


async def test_after_the_server_restarts_the_next_request_goes_out_and_events_flow(
    tmp_path: Path,
) -> None:
    """A crash forgets the open request, and no one hears of it: the inbox gives it up once its
    time is past, and asks again."""
    async with _own_server(tmp_path) as (server, nc):
        stream, subject = await _stream_with_consumer(nc, 1)
        inbox = PullInbox(nc, stream=stream, durable="reader", batch=10)
        await inbox.open()
        first = await inbox.next_batch()
        await first[0].ack()
        waiting = asyncio.create_task(inbox.next_batch())  # its request open at the server
        await asyncio.sleep(0.2)
        server.kill()  # no word to anyone (a graceful stop tells each request it is over)
        server.start()
        server.wait_ready()
        for _ in range(100):  # JetStream takes a moment to serve again after the restart
            try:
                await nc.jetstream().publish(subject, b"after the restart", timeout=0.5)
                break
            except (nats.errors.TimeoutError, nats.js.errors.NoStreamResponseError):
                await asyncio.sleep(0.1)
        received: list[bytes] = []
        async with asyncio.timeout(5):  # "no event since the restart" if it runs out
            received = [m.data for m in await waiting]
            while not received:
                received = [m.data for m in await inbox.next_batch()]
        assert received == [b"after the restart"]
        inbox.close()
        assert await _rest(inbox) == []


@pytest.mark.timeout(30)
async def test_an_inbox_closed_again_without_a_connection_ends(tmp_path: Path) -> None:
    """Each close without a connection once queued another end-of-request, so a reader that
    closed on every turn spun on them forever and starved the service's event loop."""
    async with _own_server(tmp_path) as (server, nc):
        stream, _ = await _stream_with_consumer(nc, 0)
        inbox = PullInbox(nc, stream=stream, durable="reader", batch=10)
        await inbox.open()
        server.kill()
        async with asyncio.timeout(5):
            while nc.is_connected:
                await asyncio.sleep(0.05)
        turns = 0
        async with asyncio.timeout(2):
            while not inbox.closed:
                inbox.close()
                await inbox.next_batch()
                turns += 1
        assert turns <= 3, f"{turns} turns to close"
