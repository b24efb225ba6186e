"""sh's NATS as a cluster of three servers, its streams kept in three copies, its services
connected to all three; hz a single server, leaf-linked to every one of them. Each of sh's
servers is SIGKILLed and restarted in turn while sh writes: every acknowledged write's event is
in sh's stream once, in order, and reaches hz."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from alliance.membership.v1 import membership_pb2 as pb
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.streams import events_stream_name

from tests.conftest import Tokens, auth, sample_carrier
from tests.federation import Federation, held_by, wait_until_held
from tests.test_replicas import answered, stream_events

pytestmark = pytest.mark.slow


async def test_a_cluster_loses_no_acknowledged_event_when_any_server_dies(
    tmp_path: Path,
) -> None:
    federation = await Federation.start(
        ["sh", "hz"], tmp_path, clusters={"sh": 3}, write_rate_per_s=10_000, write_burst=10_000
    )
    try:
        sh = federation.regions["sh"]
        stub, md = sh.stub, auth(Tokens("sh").operator())
        created: list[str] = []

        async def writer(n: int) -> None:
            while len(created) < n:
                reply = await stub.CreateCarrier(
                    pb.CreateCarrierRequest(parent="regions/sh", carrier=sample_carrier()),
                    metadata=md,
                )
                created.append(reply.name)
                await asyncio.sleep(0.05)

        nc = await federation.connect("sh")
        js = nc.jetstream()

        async def stored() -> int:
            """Events in sh's stream, asked until a leader answers."""
            deadline = time.monotonic() + 15
            while True:
                try:
                    return (await js.stream_info(events_stream_name("sh"))).state.messages
                except Exception:
                    assert time.monotonic() < deadline, "sh's stream does not answer"
                    await asyncio.sleep(0.2)

        grew: list[int] = []

        async def kill_in_turn() -> None:
            """Each server down for a while: events must go on being stored meanwhile. When
            the dead one led the stream, the relay's publishes wait out a new leader's election
            (nats-server's followers wait 4-9 s first) and their own ack timeout and back-off,
            so the store is given time."""
            for server in sh.servers:
                await asyncio.sleep(1.0)
                server.kill()
                await asyncio.sleep(1.0)
                before = await stored()
                deadline = time.monotonic() + 30
                while (now := await stored()) == before and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                grew.append(now - before)
                server.start()
                await asyncio.to_thread(server.wait_ready, 60, current=True)

        writing = asyncio.gather(*(writer(10_000) for _ in range(4)))
        try:
            await kill_in_turn()
        finally:
            await nc.close()
        assert all(n > 0 for n in grew), f"events stored while each server was down: {grew}"
        total = len(created)
        writing.cancel()
        await asyncio.gather(writing, return_exceptions=True)
        created = created[:total] if len(created) > total else created

        # Every acknowledged carrier's event reaches sh's stream once, in order.
        deadline = time.monotonic() + 60
        while True:
            events = await answered(lambda: stream_events(federation, "sh"))
            seen = {e["ce-subject"] for e in events}
            if set(created) <= seen or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert set(created) <= seen, f"{len(set(created) - seen)} of {len(created)} missing"
        ids = Counter(e["ce-id"] for e in events)
        assert max(ids.values()) == 1, "an event is in the stream twice"
        assert len(created) > 100, len(created)

        # hz, leaf-linked to every server of sh's cluster, holds them too.
        await wait_until_held(federation, "hz", set(created), within_s=60)
        assert len(await held_by(federation, "hz")) >= len(created)
    finally:
        await federation.stop()


async def test_a_server_without_the_route_password_joins_no_cluster(tmp_path: Path) -> None:
    """A server holding the deployment's TLS certificate (a region's leaked keys) but not sh's
    route password tries to route to each of sh's servers: none takes it in."""
    federation = await Federation.start(["sh", "hz"], tmp_path, clusters={"sh": 3})
    intruders: list[NatsServer] = []
    try:
        tls = federation.tls("hz")
        assert tls is not None
        sh = federation.topology.servers("sh")
        hz_password = federation.keys.region("hz").route_password
        for login in ("", "route:wrong@", f"route:{hz_password}@"):
            port, monitor = free_port(), free_port()
            routes = ", ".join(f'"nats-route://{login}127.0.0.1:{s.cluster_port}"' for s in sh)
            config = tmp_path / f"intruder-{len(intruders)}.conf"
            config.write_text(
                f"server_name: intruder-{len(intruders)}\nlisten: 127.0.0.1:{port}\n"
                f"http: 127.0.0.1:{monitor}\n"
                f"cluster {{ name: sh, listen: 127.0.0.1:{free_port()},\n"
                f"{tls.block('  ')}\n  routes: [{routes}] }}\n"
            )
            intruder = NatsServer(
                tmp_path / "intruder-js", port=port, monitor_port=monitor, config=config,
                name="intruder", log_path=tmp_path / "intruder.log",
            )  # fmt: skip
            intruder.start()
            intruders.append(intruder)
        await asyncio.sleep(3)  # routes are tried at once, then every second
        for server in sh:  # its routes (pooled: several connections a peer) go to the other two
            names = {r.get("remote_name", "") for r in _routez(server.monitor_port)["routes"]}
            assert len(names) == 2 and all(n.startswith("alliance-sh-") for n in names), names
        # An intruder lists the route it is trying (with its peer's name) until the peer refuses
        # its password: a route that joined is the same connection seconds later.
        trying = {intruder: _routes(intruder) for intruder in intruders}
        await asyncio.sleep(2)
        for intruder, tried in trying.items():
            assert not tried & _routes(intruder), f"{intruder.name} joined: {tried}"
    finally:
        for intruder in intruders:
            intruder.stop()
        await federation.stop()


def _routes(server: NatsServer) -> set[tuple[int, str]]:
    """(route id, peer's name) of each route a server has."""
    return {(r["rid"], r.get("remote_name", "")) for r in _routez(server.monitor_port)["routes"]}


def _routez(monitor_port: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{monitor_port}/routez"
    with urllib.request.urlopen(url, timeout=2) as reply:
        return dict(json.load(reply))
