"""A service on PostgreSQL when the server goes away: every call answers UNAVAILABLE (never
INTERNAL, never a hang) and keeps nothing; once the server is back the service serves again
without a restart, and what was acknowledged before is there, its events published."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import nats
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from yrd_alliance.deployment.postgres_server import PostgresServer, postgres_bin
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.streams import events_stream_name, region_subjects
from yrd_alliance.membership.app import DEFINITION

from tests.conftest import (
    Tokens,
    auth,
    new_region,
    read_events,
    read_rows,
    sample_carrier,
    settings_for,
    tls_channel,
)

pytestmark = pytest.mark.slow


async def test_a_service_answers_unavailable_while_postgresql_is_down_and_recovers(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    server = PostgresServer()  # its own: this test kills it
    server.start()
    server.wait_ready()
    host: ServiceHost | None = None
    channel: grpc.aio.Channel | None = None
    try:
        database = server.create_database("membership")
        region = new_region()
        settings = settings_for(region, database, nats_server.url, folder=tmp_path)
        host = ServiceHost(DEFINITION, settings.model_copy(update={"leader_poll_s": 0.2}))
        channel = tls_channel(f"127.0.0.1:{await host.start()}")
        stub, md = pb_grpc.MembershipServiceStub(channel), auth(Tokens(region).operator())

        def create() -> Awaitable[pb.Carrier]:
            request = pb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier())
            return stub.CreateCarrier(request, metadata=md, timeout=10)

        first = await create()
        server.kill()  # as a crash: no goodbye to any client
        calls: list[Callable[[], Awaitable[object]]] = [
            create,
            lambda: stub.GetCarrier(pb.GetCarrierRequest(name=first.name), metadata=md, timeout=10),
            lambda: stub.ListCarriers(
                pb.ListCarriersRequest(parent=f"regions/{region}"), metadata=md, timeout=10
            ),
        ]
        for call in calls * 2:  # twice: the second finds no connection to lose
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call()
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()

        server.resume()
        server.wait_ready()
        second = None
        for _ in range(100):
            try:
                second = await create()
                break
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
                await asyncio.sleep(0.1)
        assert second is not None, "the service did not serve again"
        assert (await stub.GetCarrier(pb.GetCarrierRequest(name=first.name), metadata=md)).name
        rows = read_rows(database, "SELECT count(*) FROM carriers")
        assert rows[0][0] == 2, "a refused create kept something"
        events = await read_events(nats_server.url, region, expected=2, wait_s=20)
        assert sorted(e.resource for e in events) == sorted([first.name, second.name])
    finally:
        try:
            if channel is not None:
                await channel.close()
            if host is not None:
                await host.stop()
        finally:
            server.stop()


async def test_a_service_stops_cleanly_while_postgresql_is_down(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    server = PostgresServer()
    server.start()
    server.wait_ready()
    try:
        region = new_region()
        database = server.create_database("membership")
        settings = settings_for(region, database, nats_server.url, folder=tmp_path)
        host = ServiceHost(DEFINITION, settings)
        channel = tls_channel(f"127.0.0.1:{await host.start()}")
        stub, md = pb_grpc.MembershipServiceStub(channel), auth(Tokens(region).operator())
        request = pb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier())
        await stub.CreateCarrier(request, metadata=md)
        await channel.close()
        server.kill()
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(host.stop(), timeout=15)  # raises nothing, hangs on nothing
        assert asyncio.get_running_loop().time() - began < 10
    finally:
        server.stop()


async def test_a_write_through_a_replica_that_does_not_lead_is_published_at_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    """The leader's relay hears of the other replica's commit (LISTEN/NOTIFY); it used to find
    it at its next idle check, up to a second later."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed; `make test` installs it")
    server = PostgresServer()
    server.start()
    server.wait_ready()
    hosts: list[ServiceHost] = []
    channel: grpc.aio.Channel | None = None
    nc = await nats.connect(nats_server.url)
    try:
        database = server.create_database("membership")
        region = new_region()
        for replica in ("leader", "other"):
            settings = settings_for(region, database, nats_server.url, folder=tmp_path / replica)
            hosts.append(ServiceHost(DEFINITION, settings))
            port = await hosts[-1].start()
        leader, other = hosts
        assert leader.leadership.leading and not other.leadership.leading
        channel = tls_channel(f"127.0.0.1:{port}")  # the other replica's
        stub, md = pb_grpc.MembershipServiceStub(channel), auth(Tokens(region).operator())

        published: dict[str, float] = {}

        async def on_event(message: Msg) -> None:
            published[(message.headers or {})["ce-subject"]] = time.monotonic()

        await nc.jetstream().subscribe(
            region_subjects(region),
            stream=events_stream_name(region),
            cb=on_event,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        waits = []
        for _ in range(8):
            request = pb.CreateCarrierRequest(parent=f"regions/{region}", carrier=sample_carrier())
            carrier = await stub.CreateCarrier(request, metadata=md)
            created = time.monotonic()
            while carrier.name not in published:
                assert time.monotonic() - created < 5, f"{carrier.name} never published"
                await asyncio.sleep(0.005)
            waits.append(published[carrier.name] - created)
            await asyncio.sleep(0.05)
        assert max(waits) < 0.3, f"published after {[round(w, 3) for w in waits]} s"
    finally:
        try:
            await nc.close()
            if channel is not None:
                await channel.close()
            for host in reversed(hosts):
                await host.stop()
        finally:
            server.stop()
