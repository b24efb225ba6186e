"""Two replicas of sharing in sh on one PostgreSQL database, sh's NATS a cluster of three, in a
federation of three regions. Both replicas serve the API; one leads (publishes the outbox,
applies events, expires requests). Each replica, and one of sh's NATS servers, is SIGKILLed and
restarted, in turn, while sh writes resources through both replicas and twenty carriers of
three regions race for a lab's three units. Afterwards: every acknowledged write is there once,
no event was published twice or out of order, none was applied twice, nothing is overbooked,
both replicas' searches find what either wrote, and hz and zjg hold sh's catalogue."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.deployment.postgres_server import PostgresServer
from yrd_alliance.deployment.procs import NatsServer, ServiceProcess
from yrd_alliance.kernel.postgres import PostgresEngine

from tests.conftest import Tokens, auth, read_rows, tls_channel
from tests.federation import Federation, all_events
from tests.helpers import eventually
from tests.test_sharing_federation import ask, create_resource, request_state, wait_for_carrier

pytestmark = pytest.mark.slow

T = TypeVar("T")
# What a caller sees while a replica is down or a write met a concurrent one: try again.
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.UNKNOWN)


class Replicas:
    """sh's sharing replicas, and a client that turns to the other one when a call fails, as a
    load balancer in front of them would."""

    def __init__(self, processes: list[ServiceProcess]) -> None:
        self.processes = processes
        self.channels = [tls_channel(f"127.0.0.1:{p.port}") for p in processes]
        self.stubs = [sharing_grpc.SharingServiceStub(c) for c in self.channels]

    async def call(
        self, prefer: int, call: Callable[[sharing_grpc.SharingServiceStub], Awaitable[T]]
    ) -> T:
        deadline = time.monotonic() + 60
        attempt = 0
        while True:
            stub = self.stubs[(prefer + attempt) % len(self.stubs)]
            try:
                return await call(stub)
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE or time.monotonic() > deadline:
                    raise
            attempt += 1
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


async def kill_in_turn(
    replicas: list[ServiceProcess], servers: list[NatsServer], rounds: int
) -> int:
    """SIGKILLs each replica, then one of the NATS servers, in turn, and starts each again;
    returns how many kills."""
    kills = 0
    for round_ in range(rounds):
        for process in [*replicas, servers[round_ % len(servers)]]:
            await asyncio.sleep(1.0)
            process.kill()
            kills += 1
            await asyncio.sleep(0.5)
            process.start()
            if isinstance(process, NatsServer):
                await asyncio.to_thread(process.wait_ready, 60, current=True)
            else:
                await asyncio.to_thread(process.wait_ready)
    return kills


async def test_replicas_and_nats_servers_killed_in_turn_lose_nothing_and_overbook_nothing(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    federation = await Federation.start(["sh", "hz", "zjg"], tmp_path, clusters={"sh": 3})
    database = postgres.create_database("sharing_sh")
    processes = [
        federation.process(
            "sh",
            "sharing",
            {},
            database_url=database,
            db_path=tmp_path / f"sh-sharing-{replica}.db",  # its search index goes beside
        )
        for replica in "ab"
    ]
    replicas: Replicas | None = None
    try:
        for process in processes:
            process.start()
        for process in processes:
            await asyncio.to_thread(process.wait_ready)
        replicas = Replicas(processes)
        sharing = {r: await federation.start_sharing(r) for r in ("hz", "zjg")}
        (owner,) = await federation.create_carriers("sh", 1)
        requesters = {r: await federation.create_carriers(r, 7) for r in ("sh", "hz", "zjg")}
        lab = await create_resource(replicas.stubs[0], "sh", owner, capacity=3)
        for region, stub in sharing.items():
            await eventually(
                lambda stub=stub, region=region: stub.GetResource(
                    pb.GetResourceRequest(name=lab.name), metadata=auth(Tokens(region).partner())
                ),
                lambda _: True,
                f"{region} has the lab",
            )
        for region, carriers in requesters.items():
            for carrier in carriers:
                for stub in [sharing[region]] if region in sharing else replicas.stubs:
                    await wait_for_carrier(stub, carrier)

        written: list[str] = []

        async def write(i: int) -> None:
            request_id = str(uuid.uuid4())  # the same on every retry: created once
            resource = pb.Resource(
                owner=owner,
                category=pb.CATEGORY_SPACE_VENUE,
                title=f"路演厅 replica-{i}",
                capacity=2,
                visibility=pb.VISIBILITY_ALLIANCE,
                state=pb.RESOURCE_STATE_PUBLISHED,
            )
            made = await replicas.call(  # type: ignore[union-attr]
                i,
                lambda stub: stub.CreateResource(
                    pb.CreateResourceRequest(
                        parent="regions/sh", resource=resource, request_id=request_id
                    ),
                    metadata=auth(Tokens("sh").operator()),
                ),
            )
            written.append(made.name)

        async def ask_from(i: int, carrier: str) -> pb.Request:
            region = carrier.split("/")[1]
            if region == "sh":
                return await replicas.call(  # type: ignore[union-attr]
                    i, lambda stub: ask(stub, carrier, lab.name)
                )
            return await ask(sharing[region], carrier, lab.name)

        askers = [c for r in ("sh", "hz", "zjg") for c in requesters[r]][:20]

        hall = await create_resource(replicas.stubs[1], "sh", owner, title="路演厅", capacity=1)

        async def update(i: int) -> None:
            """One of twelve changes to the hall at once, through either replica."""
            changed = pb.Resource(name=hall.name, description=f"第{i}次修改")
            await replicas.call(
                i,
                lambda stub: stub.UpdateResource(
                    pb.UpdateResourceRequest(
                        resource=changed, update_mask=FieldMask(paths=["description"])
                    ),
                    metadata=auth(Tokens("sh").operator()),
                ),
            )

        nats_servers = federation.regions["sh"].servers
        killing = asyncio.create_task(kill_in_turn(processes, nats_servers, rounds=2))
        await asyncio.gather(*(write(i) for i in range(10)))
        made = await asyncio.gather(*(ask_from(i, c) for i, c in enumerate(askers)))
        for _ in range(3):
            await asyncio.gather(*(update(i) for i in range(12)))
        batch = 1
        while not killing.done():  # writes go on until every replica was killed
            await asyncio.gather(*(write(batch * 10 + i) for i in range(10)))
            batch += 1
            await asyncio.sleep(0.5)
        assert await killing == 6

        # Every acknowledged write is there, once.
        assert len(written) == batch * 10
        titles = read_rows(
            database, "SELECT count(*), count(DISTINCT text) FROM resources WHERE text LIKE ?",
            ("%replica-%",),
        )  # fmt: skip
        assert tuple(titles[0]) == (len(written), len(written))
        # Three times twelve changes at once, none lost: a replica locks the row it changes.
        assert read_rows(database, "SELECT version FROM resources WHERE id = ?",
                         (hall.name.rsplit("/", 1)[1],))[0][0] == 37  # fmt: skip
        # Failover happened: the lease moved at least once per kill of its holder.
        terms = sum(
            (tmp_path / f"sh-sharing-{replica}.log").read_text().count("this replica leads")
            for replica in "ab"
        )
        assert terms >= 3, terms
        for name in written:
            await replicas.call(
                0,
                lambda stub, name=name: stub.GetResource(
                    pb.GetResourceRequest(name=name), metadata=auth(Tokens("sh").operator())
                ),
            )

        # Three units, three held; the other seventeen wait.
        def decided(r: pb.Request) -> bool:
            return r.capacity_held or r.state == pb.REQUEST_STATE_WAITLISTED

        states = []
        for request in made:
            region = request.name.split("/")[1]
            stubs = replicas.stubs if region == "sh" else [sharing[region]]
            states.append(
                await eventually(
                    lambda r=request, s=stubs[0]: request_state(s, r.name),
                    decided,
                    request.name,
                    within_s=60,
                )
            )
        assert Counter(r.capacity_held for r in states) == {True: 3, False: 17}
        bookings = read_rows(
            database, "SELECT state, count(*), sum(units) FROM bookings WHERE resource = ? "
            "GROUP BY state", (lab.name,),
        )  # fmt: skip
        assert {row[0]: (row[1], row[2]) for row in bookings} == {
            "held": (3, 3),
            "waitlisted": (17, 17),
        }

        # sh's stream, once the outbox is empty: every event once, each entity's versions
        # rising.
        await until_published(database)
        expected = len(written) + 2 + 20  # the resources, the lab, the hall and the bookings
        deadline = time.monotonic() + 60
        while True:  # ALL_SH sources EVENTS_SH: it may still be catching up after the kills
            events = await answered(lambda: stream_events(federation, "sh"))
            firsts = sum(e["ce-version"] == "1" and e["entity"] in ("resource", "booking")
                         for e in events)  # fmt: skip
            if firsts >= expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        ids = Counter(e["ce-id"] for e in events)
        assert not [i for i, n in ids.items() if n > 1], "an event was published twice"
        versions: dict[tuple[str, str], list[int]] = defaultdict(list)
        for e in events:
            versions[e["entity"], e["ce-subject"]].append(int(e["ce-version"]))
        out_of_order = {s: v for s, v in versions.items() if v != sorted(set(v))}
        assert not out_of_order, f"versions out of order: {out_of_order}"
        made_once = Counter(entity for (entity, _), v in versions.items() if v[0] == 1)
        assert made_once["resource"] == len(written) + 2, made_once
        assert made_once["booking"] == 20, made_once

        # Applied once: every event sh's projection took is in its applied_events once.
        applied = read_rows(
            database, "SELECT count(*), count(DISTINCT event_id) FROM applied_events"
        )
        assert applied[0][0] == applied[0][1]

        # Both replicas' search indexes and read caches follow what either one writes.
        async def halls(stub: sharing_grpc.SharingServiceStub) -> int:
            request = pb.SearchResourcesRequest(region="regions/sh", query="路演厅")
            reply = await stub.SearchResources(request, metadata=auth(Tokens("sh").operator()))
            return int(reply.total_size)

        counts = [await halls(stub) for stub in replicas.stubs]
        assert counts == [len(written) + 1] * 2, counts  # and the hall itself
        await write(100_000)  # an even number: through the first replica
        assert await halls(replicas.stubs[1]) == counts[1] + 1, "the other replica missed it"

        # hz and zjg hold sh's catalogue as sh does.
        for region in ("hz", "zjg"):
            for name in written:
                await eventually(
                    lambda name=name, region=region: sharing[region].GetResource(
                        pb.GetResourceRequest(name=name), metadata=auth(Tokens(region).partner())
                    ),
                    lambda _: True,
                    f"{region} has {name}",
                    within_s=60,
                )
    finally:
        if replicas is not None:
            await replicas.close()
        for process in processes:
            process.stop()
        await federation.stop()


async def until_published(database: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while read_rows(database, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0]:
        assert time.monotonic() < deadline, "the outbox is not empty"
        await asyncio.sleep(0.1)


async def answered(call: Callable[[], Awaitable[T]], within_s: float = 30.0) -> T:
    """The call's answer, asked again while a stream's servers elect a leader after a kill."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return await call()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def stream_events(federation: Federation, region: str) -> list[dict[str, Any]]:
    """The headers of every event the region published, in the order its ALL_<R> holds them,
    with the entity its subject names (alliance.<region>.<service>.<entity>.<verb>)."""
    return [
        {**headers, "entity": subject.split(".")[3]}
        for subject, headers in await all_events(federation, region)
        if subject.startswith(f"alliance.{region}.")
    ]


def test_one_replica_at_a_time_holds_the_lease_and_a_dead_ones_passes_on(
    postgres: PostgresServer,
) -> None:
    engine = PostgresEngine(postgres.create_database("lease"))
    first, second = engine.lease("sharing-workers"), engine.lease("sharing-workers")
    other = engine.lease("membership-workers")
    try:
        assert first.acquire()
        assert not second.acquire(), "two holders at once"
        assert other.acquire(), "another service's lease is its own"
        assert first.held() and not second.held()
        first._conn._conn.pgconn.finish()  # type: ignore[union-attr]  # as when a replica dies
        assert not first.held()
        assert second.acquire()
        assert not first.acquire(), "the first, back, must wait its turn"
    finally:
        for lease in (first, second, other):
            lease.release()
