"""The event pipeline under bad input, with real services and a real nats-server: an oversized
or padded request, an event NATS can never take, a poison event. Each stops only itself, is
set aside where an operator sees it, and everything behind it flows on."""

from __future__ import annotations

import gc
import sqlite3
import time
import uuid
from pathlib import Path

import grpc
import nats
import pytest
from alliance.membership.v1 import events_pb2 as mev
from alliance.membership.v1 import membership_pb2 as mpb
from alliance.membership.v1 import membership_pb2_grpc as mpb_grpc
from alliance.operations.v1 import operations_pb2 as ops
from alliance.operations.v1 import operations_pb2_grpc as ops_grpc
from alliance.sharing.v1 import events_pb2 as sev
from alliance.sharing.v1 import sharing_pb2 as pb
from alliance.sharing.v1 import sharing_pb2_grpc as sharing_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from yrd_alliance.deployment.procs import NatsServer
from yrd_alliance.kernel import outbox
from yrd_alliance.kernel.errors import InvalidArgument
from yrd_alliance.kernel.events import MAX_EVENT_BYTES, Event, build_event
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.paging import varint
from yrd_alliance.kernel.server import ServiceHost
from yrd_alliance.kernel.streams import events_stream_name
from yrd_alliance.kernel.unit_of_work import UnitOfWork
from yrd_alliance.membership.app import DEFINITION as MEMBERSHIP
from yrd_alliance.sharing.app import DEFINITION as SHARING
from yrd_alliance.sharing.app import SharingSettings

from tests.conftest import (
    Membership,
    Tokens,
    auth,
    beside,
    new_region,
    read_events,
    settings_for,
    tls_channel,
)
from tests.helpers import eventually, expect_error
from tests.test_sharing_federation import create_resource

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _with_unknown_field(message: pb.Resource, size: int) -> pb.Resource:
    """The message plus `size` bytes under field number 999, which no version defines."""
    padded = pb.Resource()
    unknown = varint(999 << 3 | 2) + varint(size) + b"x" * size
    padded.ParseFromString(message.SerializeToString() + unknown)
    return padded


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def _health(channel: grpc.aio.Channel, name: str) -> int:
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=name)
    )
    return int(reply.status)


async def test_unknown_fields_are_dropped_and_oversized_requests_refused(
    membership: Membership, tmp_path: Path
) -> None:
    db = tmp_path / "sharing.db"
    async with beside(
        membership, db, SHARING, SharingSettings, sharing_grpc.SharingServiceStub
    ) as region:
        owner = (await membership.create_carrier()).name
        first = await create_resource(region.stub, region.region, owner)
        before = _rows(db, "SELECT count(*) FROM resources")[0][0]
        resource = pb.Resource(
            owner=owner,
            category=pb.CATEGORY_SPACE_VENUE,
            title="路演厅",
            visibility=pb.VISIBILITY_ALLIANCE,
            state=pb.RESOURCE_STATE_PUBLISHED,
        )

        huge = pb.CreateResourceRequest(
            parent=f"regions/{region.region}", resource=_with_unknown_field(resource, 3_000_000)
        )
        await expect_error(
            region.stub.CreateResource(huge, metadata=region.op),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        )
        assert _rows(db, "SELECT count(*) FROM resources")[0][0] == before, "nothing stored"

        padded = pb.CreateResourceRequest(
            parent=f"regions/{region.region}",
            resource=_with_unknown_field(resource, 600_000),
            request_id=str(uuid.uuid4()),
        )
        stored = await region.stub.CreateResource(padded, metadata=region.op)
        after = await create_resource(region.stub, region.region, owner, title="创业导师辅导")
        assert len(stored.SerializeToString()) < 1000, "the unknown field was dropped"
        got = await region.stub.GetResource(
            pb.GetResourceRequest(name=stored.name), metadata=region.op
        )
        assert len(got.SerializeToString()) < 1000
        largest = _rows(db, "SELECT max(length(payload)) FROM outbox")[0][0]
        assert largest < 2000, f"an outbox event of {largest} bytes carries the unknown field"

        events = await read_events(membership.nats_url, region.region, expected=4)
        names = [e.resource for e in events if ".sharing.resource." in e.subject]
        assert names == [first.name, stored.name, after.name], "later events flow on"


async def test_the_largest_valid_resource_fits_an_event(
    membership: Membership, tmp_path: Path
) -> None:
    async with beside(
        membership, tmp_path / "s.db", SHARING, SharingSettings, sharing_grpc.SharingServiceStub
    ) as region:
        owner = (await membership.create_carrier()).name
        start = int(time.time()) + 86400
        windows = [
            pb.TimeWindow(
                start_time={"seconds": start + i * 7200},
                end_time={"seconds": start + i * 7200 + 3600},
            )
            for i in range(50)
        ]
        largest = await create_resource(
            region.stub,
            region.region,
            owner,
            title="测" * 200,
            description="检" * 4000,
            industrial_chains=list(range(1, 9)),
            availability=windows,
            terms=pb.Terms(price_fen=10**12, note="注" * 500),
        )
        # the owner's CarrierRegistered, then the resource's event
        events = await read_events(membership.nats_url, region.region, expected=2)
        event = next(e for e in events if e.resource == largest.name)
        assert 12_000 < event.size < MAX_EVENT_BYTES


def test_an_event_over_the_limit_refuses_its_unit_of_work() -> None:
    conn = sqlite3.connect(":memory:")
    uow = UnitOfWork(conn)
    event = build_event(
        region="sh",
        service="membership",
        entity="carrier",
        verb="registered",
        resource="regions/sh/carriers/x",
        version=1,
        payload=mev.CarrierRegistered(carrier=mpb.Carrier(address="址" * 400_000)),
    )
    with pytest.raises(InvalidArgument) as refused:
        uow.emit(event)
    assert "1,000,000 bytes" in refused.value.violations[0].description
    assert uow.events == []


async def test_an_event_nats_can_never_take_is_set_aside(membership: Membership) -> None:
    m = membership
    runtime = m.host.runtime
    assert runtime is not None
    too_big = build_event(
        region=m.region,
        service="membership",
        entity="carrier",
        verb="registered",
        resource=f"regions/{m.region}/carriers/{new_id()}",
        version=1,
        payload=mev.CarrierRegistered(carrier=mpb.Carrier(address="址" * 700_000)),
    )
    async with runtime.unit_of_work() as uow:  # as an older version could have stored it
        outbox.append(uow.tx, too_big)
    runtime.relay.wake()
    carrier = await m.create_carrier()

    events = await read_events(m.nats_url, m.region, expected=1)
    assert [e.resource for e in events] == [carrier.name], "the row behind it was published"
    stub = ops_grpc.OperationsServiceStub(m.channel)
    parent = f"regions/{m.region}/services/membership"
    letters = await eventually(
        lambda: stub.ListDeadLetters(ops.ListDeadLettersRequest(parent=parent), metadata=m.op),
        lambda reply: len(reply.dead_letters) == 1,
        "the dead letter",
    )
    letter = letters.dead_letters[0]
    assert letter.origin == ops.DEAD_LETTER_ORIGIN_OUTBOX
    assert letter.event_id == too_big.id and "MaxPayload" in letter.error
    status = await stub.GetPipelineStatus(ops.GetPipelineStatusRequest(), metadata=m.op)
    assert (status.outbox.backlog, status.outbox.dead_letters) == (0, 1)
    await eventually(lambda: _health(m.channel, "outbox"), lambda s: s == NOT_SERVING, "outbox")
    assert await _health(m.channel, "") == SERVING, "the service itself still serves"

    partner = auth(m.tokens.partner())
    await expect_error(
        stub.DiscardDeadLetter(ops.DiscardDeadLetterRequest(name=letter.name), metadata=partner),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    other_region = auth(m.tokens.operator("zz"))
    await expect_error(
        stub.DiscardDeadLetter(
            ops.DiscardDeadLetterRequest(name=letter.name), metadata=other_region
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert len((await stub.ListDeadLetters(
        ops.ListDeadLettersRequest(parent=parent), metadata=m.op)).dead_letters) == 1  # fmt: skip
    await stub.DiscardDeadLetter(ops.DiscardDeadLetterRequest(name=letter.name), metadata=m.op)
    await eventually(lambda: _health(m.channel, "outbox"), lambda s: s == SERVING, "outbox")
    await expect_error(
        stub.GetDeadLetter(ops.GetDeadLetterRequest(name=letter.name), metadata=m.op),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_a_poison_event_is_set_aside_and_the_next_hundred_apply_in_order(
    membership: Membership, tmp_path: Path
) -> None:
    m = membership
    db = tmp_path / "sharing.db"
    async with beside(
        m, db, SHARING, SharingSettings, sharing_grpc.SharingServiceStub,
        consumer_max_deliver=3, consumer_retry_s=0.1,
    ) as region:  # fmt: skip
        poison = build_event(
            region=m.region,
            service="sharing",
            entity="booking",
            verb="held",
            resource=f"regions/{m.region}/requests/{new_id()}",
            version=1,
            payload=sev.BookingChanged(),
        )
        carriers = [
            build_event(
                region=m.region,
                service="membership",
                entity="carrier",
                verb="registered",
                resource=name,
                version=1,
                payload=mev.CarrierRegistered(
                    carrier=mpb.Carrier(name=name, state=mpb.CARRIER_STATE_ACTIVE)
                ),
            )
            for name in (f"regions/{m.region}/carriers/{new_id()}" for _ in range(100))
        ]
        await m.create_carrier()
        await read_events(m.nats_url, m.region, expected=1)  # the region's stream is there
        nc = await nats.connect(m.nats_url)
        try:
            js = nc.jetstream()
            await js.publish(poison.subject, b"\xff\xff\xff not protobuf", headers=poison.headers())
            for event in carriers:
                await js.publish(event.subject, event.payload, headers=event.headers())
        finally:
            await nc.close()

        stub = ops_grpc.OperationsServiceStub(region.members.channel)  # membership's: no letters
        sharing_ops = ops_grpc.OperationsServiceStub(region.channel)
        parent = f"regions/{m.region}/services/sharing"
        letters = await eventually(
            lambda: sharing_ops.ListDeadLetters(
                ops.ListDeadLettersRequest(parent=parent), metadata=m.op
            ),
            lambda reply: len(reply.dead_letters) == 1,
            "the poison event set aside",
        )
        letter = letters.dead_letters[0]
        assert letter.origin == ops.DEAD_LETTER_ORIGIN_CONSUMER
        assert letter.deliveries == 3 and letter.event_id == poison.id and letter.error
        applied = [
            row[0]
            for row in _rows(db, "SELECT event_id FROM applied_events ORDER BY rowid")
            if row[0] in {e.id for e in carriers}
        ]
        assert applied == [e.id for e in carriers], "the hundred behind it, once, in order"
        known = _rows(db, f"SELECT count(*) FROM carriers WHERE name LIKE 'regions/{m.region}/%'")
        assert known[0][0] >= 100
        assert poison.id not in {r[0] for r in _rows(db, "SELECT event_id FROM applied_events")}

        await expect_error(
            sharing_ops.ReplayDeadLetter(
                ops.ReplayDeadLetterRequest(name=letter.name), metadata=m.op
            ),
            grpc.StatusCode.FAILED_PRECONDITION,
        )
        again = await sharing_ops.GetDeadLetter(
            ops.GetDeadLetterRequest(name=letter.name), metadata=m.op
        )
        assert again.deliveries == 4, "a failed replay keeps the letter and counts it"
        status = await sharing_ops.GetPipelineStatus(ops.GetPipelineStatusRequest(), metadata=m.op)
        assert status.consumers[0].dead_letters == 1 and status.consumers[0].reachable
        assert (await stub.GetPipelineStatus(ops.GetPipelineStatusRequest(), metadata=m.op)).outbox
        await eventually(
            lambda: _health(region.channel, "projection"), lambda s: s == NOT_SERVING, "health"
        )
        await sharing_ops.DiscardDeadLetter(
            ops.DiscardDeadLetterRequest(name=letter.name), metadata=m.op
        )
        assert _rows(db, "SELECT count(*) FROM dead_letters")[0][0] == 0
        await eventually(
            lambda: _health(region.channel, "projection"), lambda s: s == SERVING, "projection"
        )


async def test_a_stuck_outbox_shows_while_nats_is_up(
    nats_server: NatsServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    region = new_region()
    settings = settings_for(region, tmp_path / "m.db", nats_server.url)
    host = ServiceHost(MEMBERSHIP, settings.model_copy(update={"stuck_after_s": 1.0}))
    port = await host.start()
    channel = tls_channel(f"127.0.0.1:{port}")
    try:
        m = Membership(
            host, mpb_grpc.MembershipServiceStub(channel), channel, Tokens(region), region,
            tmp_path / "m.db", nats_server.url, tmp_path,
        )  # fmt: skip
        await m.create_carrier()
        await read_events(m.nats_url, region, expected=1)
        nc = await nats.connect(nats_server.url)
        try:  # the region's stream gone: every publish now fails while NATS itself is up
            await nc.jetstream().delete_stream(events_stream_name(region))
        finally:
            await nc.close()
        for _ in range(3):  # a batch of three: each publish fails
            await m.create_carrier()
        await eventually(
            lambda: _health(channel, "outbox"), lambda s: s == NOT_SERVING, "stuck", within_s=15
        )
        stub = ops_grpc.OperationsServiceStub(channel)
        status = await stub.GetPipelineStatus(ops.GetPipelineStatusRequest(), metadata=m.op)
        assert status.outbox.stuck and status.outbox.backlog == 3
        gc.collect()  # a failed publish whose outcome nobody read is logged as it goes
        unread = [r for r in caplog.records if "never retrieved" in r.getMessage()]
        assert unread == [], "every failed publish's outcome was read"
        assert status.outbox.oldest_unsent_age_seconds >= 1.0 and status.outbox.nats_connected
        assert await _health(channel, "") == SERVING
    finally:
        await channel.close()
        await host.stop()


def test_a_relay_batch_holds_one_event_per_entity() -> None:
    """So a failure partway through a pipelined batch can never let an entity's later event
    be stored before an earlier one that is retried."""
    from yrd_alliance.kernel.outbox import _Row, one_per_entity

    def row(seq: int, entity: str) -> _Row:
        return _Row(seq, "alliance.sh.x", {"ce-subject": entity}, b"", created_at=0.0)

    rows = [row(1, "a"), row(2, "b"), row(3, "c"), row(4, "a"), row(5, "d")]
    assert [r.seq for r in one_per_entity(rows)] == [1, 2, 3]
    assert [r.seq for r in one_per_entity(rows[3:])] == [4, 5]
    assert one_per_entity([]) == []


async def test_events_about_another_regions_entities_are_set_aside_never_applied(
    membership: Membership, tmp_path: Path
) -> None:
    """Published with this region's service credentials: a carrier of region `elsewhere` on this
    region's subject, and one whose ce-source names another region. Neither is applied."""
    m = membership
    db = tmp_path / "sharing.db"
    async with beside(m, db, SHARING, SharingSettings, sharing_grpc.SharingServiceStub) as region:
        await m.create_carrier()
        await read_events(m.nats_url, m.region, expected=1)

        def carrier_event(name: str) -> Event:
            return build_event(
                region=m.region, service="membership", entity="carrier", verb="registered",
                resource=name, version=9,
                payload=mev.CarrierRegistered(
                    carrier=mpb.Carrier(name=name, state=mpb.CARRIER_STATE_ACTIVE)
                ),
            )  # fmt: skip

        forged = carrier_event(f"regions/elsewhere/carriers/{new_id()}")
        own_name = f"regions/{m.region}/carriers/{new_id()}"
        spoofed = carrier_event(own_name)
        honest = carrier_event(f"regions/{m.region}/carriers/{new_id()}")
        nc = await nats.connect(m.nats_url)
        try:
            js = nc.jetstream()
            await js.publish(forged.subject, forged.payload, headers=forged.headers())
            headers = {**spoofed.headers(), "ce-source": "/alliance/elsewhere/membership"}
            await js.publish(spoofed.subject, spoofed.payload, headers=headers)
            await js.publish(honest.subject, honest.payload, headers=honest.headers())
        finally:
            await nc.close()

        stub = ops_grpc.OperationsServiceStub(region.channel)
        parent = f"regions/{m.region}/services/sharing"
        letters = await eventually(
            lambda: stub.ListDeadLetters(ops.ListDeadLettersRequest(parent=parent), metadata=m.op),
            lambda reply: len(reply.dead_letters) == 2,
            "both set aside",
        )
        by_id = {letter.event_id: letter for letter in letters.dead_letters}
        assert set(by_id) == {forged.id, spoofed.id}
        assert all("OriginRefused" in x.error and x.deliveries == 1 for x in by_id.values())
        known = {row[0] for row in _rows(db, "SELECT name FROM carriers")}
        assert "regions/elsewhere" not in " ".join(known) and own_name not in known
        await eventually(
            lambda: _sharing_knows(db, honest.resource),
            lambda found: found,
            "the honest event behind them",
        )
        replay = ops.ReplayDeadLetterRequest(name=by_id[forged.id].name)
        await expect_error(
            stub.ReplayDeadLetter(replay, metadata=m.op), grpc.StatusCode.FAILED_PRECONDITION
        )
        assert not any("elsewhere" in row[0] for row in _rows(db, "SELECT name FROM carriers"))


async def _sharing_knows(db: Path, carrier: str) -> bool:
    return bool(_rows(db, f"SELECT 1 FROM carriers WHERE name = '{carrier}'"))
