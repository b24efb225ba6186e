"""The service's NATS link keeps one connection: a set-up that failed or was cut short by a
stop leaves none behind (counted by name on the server's monitoring port)."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from pathlib import Path

from nats.js import JetStreamContext
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.nats_link import NatsLink

from tests.helpers import eventually


def connections(server: NatsServer, name: str) -> int:
    """Open client connections called `name`."""
    url = f"http://127.0.0.1:{server.monitor_port}/connz?limit=1024"
    with urllib.request.urlopen(url, timeout=5) as reply:
        return sum(1 for c in json.load(reply)["connections"] if c.get("name") == name)


async def count(server: NatsServer, name: str) -> int:
    return await asyncio.to_thread(connections, server, name)


async def test_a_set_up_that_failed_leaves_no_connection_behind(nats_server: NatsServer) -> None:
    name = f"link-{uuid.uuid4().hex[:8]}"
    attempts: list[int] = []

    async def fails_three_times(js: JetStreamContext) -> None:
        attempts.append(1)
        if len(attempts) <= 3:
            raise RuntimeError("the stream is not there yet")

    link = NatsLink(nats_server.url, name=name, on_connect=[fails_three_times])
    link.start()
    try:
        await asyncio.wait_for(link.jetstream(), timeout=30)
        assert len(attempts) == 4
        await eventually(lambda: count(nats_server, name), lambda n: n == 1, "one connection")
        await asyncio.sleep(0.5)  # a connection left behind would still be there
        assert await count(nats_server, name) == 1, "each failed set-up closed its connection"
    finally:
        await link.close()
    await eventually(lambda: count(nats_server, name), lambda n: n == 0, "none after the close")


async def test_a_link_closed_during_its_set_up_leaves_no_connection(
    nats_server: NatsServer,
) -> None:
    name = f"link-{uuid.uuid4().hex[:8]}"
    setting_up = asyncio.Event()

    async def never_done(js: JetStreamContext) -> None:
        setting_up.set()
        await asyncio.Event().wait()

    link = NatsLink(nats_server.url, name=name, on_connect=[never_done])
    link.start()
    await asyncio.wait_for(setting_up.wait(), timeout=30)
    assert await count(nats_server, name) == 1
    await link.close()
    await eventually(lambda: count(nats_server, name), lambda n: n == 0, "none after the close")
    await asyncio.sleep(0.5)
    assert await count(nats_server, name) == 0, "the connection did not come back"


async def test_a_set_up_after_a_reconnect_is_cancelled_by_the_next_one_and_by_the_close(
    tmp_path: Path,
) -> None:
    """Each reconnect runs the set-up again; one still running when the next reconnect
    comes, or when the link closes, is cancelled rather than left to run on its own."""
    server = NatsServer(tmp_path / "js", log_path=tmp_path / "nats.log")
    server.start()
    server.wait_ready()
    calls: list[int] = []
    ended: list[int] = []
    blocked = asyncio.Event()

    async def blocks_after_a_reconnect(js: JetStreamContext) -> None:
        calls.append(1)
        mine = len(calls)
        if mine == 1:  # the first connect's set-up
            return
        try:
            blocked.set()
            await asyncio.Event().wait()
        finally:
            ended.append(mine)

    link = NatsLink(server.url, name="resetup", on_connect=[blocks_after_a_reconnect])
    link.start()
    try:
        await asyncio.wait_for(link.jetstream(), timeout=30)
        for reconnect in (1, 2):
            server.kill()
            server.start()
            server.wait_ready()
            await asyncio.wait_for(blocked.wait(), timeout=30)
            blocked.clear()
            assert len(calls) == reconnect + 1
        assert ended == [2], "the second reconnect's set-up cancelled the first's"
    finally:
        await link.close()
        server.stop()
    assert ended == [2, 3], "the close cancelled the one still running"
