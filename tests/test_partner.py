"""Partner and service credentials on a real federation: a partner reads and acks its own
durable consumer on ALL_<R>, and every forbidden operation is refused with nothing changed."""

from __future__ import annotations

import asyncio

import nats
import pytest
from kernel.nats_auth import SERVICE_USER
from kernel.streams import all_stream_name, events_stream_name
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from tests.federation import Federation, wait_until_held

REGIONS = ["sh", "hz", "zjg"]


class Violations:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def record(self, error: Exception) -> None:
        self.seen.append(str(error))


async def test_partner_reads_and_acks_its_durable_consumer(federation: Federation) -> None:
    created = set(await federation.create_carriers("sh", 3))
    await wait_until_held(federation, "hz", created, within_s=15)
    nc = await nats.connect(federation.url("hz"))
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "alliance.sh.>", durable="dashboard", stream=all_stream_name("hz")
        )
        messages = await sub.fetch(10, timeout=5)
        assert {m.headers["ce-subject"] for m in messages} == created
        for message in messages:
            await message.ack()
        await asyncio.sleep(0.2)
        info = await js.consumer_info(all_stream_name("hz"), "dashboard")
        assert info.num_ack_pending == 0 and info.delivered.stream_seq > 0
    finally:
        await nc.close()


async def test_partner_cannot_publish_or_change_streams(federation: Federation) -> None:
    await wait_until_held(
        federation, "hz", set(await federation.create_carriers("hz", 2)), within_s=15
    )
    violations = Violations()
    nc = await nats.connect(federation.url("hz"), error_cb=violations.record)
    admin = await nats.connect(federation.url("hz", SERVICE_USER))
    try:
        js, admin_js = nc.jetstream(timeout=1), admin.jetstream()
        before = {
            name: (await admin_js.stream_info(name)).state.messages
            for name in (events_stream_name("hz"), all_stream_name("hz"))
        }
        attempts = {
            "publish an event": js.publish("alliance.hz.membership.carrier.registered", b"forged"),
            "create a stream": js.add_stream(
                StreamConfig(name="PARTNER_OWN", subjects=["partner.>"])
            ),
            "update a stream": js.update_stream(
                StreamConfig(name=all_stream_name("hz"), max_msgs=1)
            ),
            "purge a stream": js.purge_stream(all_stream_name("hz")),
            "delete a stream": js.delete_stream(events_stream_name("hz")),
            "read another region's copy": js.stream_info(all_stream_name("sh")),
        }
        for attempt in attempts.values():
            with pytest.raises(Exception):  # noqa: B017  (refused: the request gets no reply)
                await attempt
        await asyncio.sleep(0.3)
        refused = [v for v in violations.seen if "permissions violation" in v.lower()]
        assert len(refused) == len(attempts), violations.seen
        after = {name: (await admin_js.stream_info(name)).state.messages for name in before}
        assert after == before, "a refused operation changed a stream"
        with pytest.raises(NotFoundError):
            await admin_js.stream_info("PARTNER_OWN")
    finally:
        await nc.close()
        await admin.close()


async def test_a_region_service_cannot_publish_another_regions_events(
    federation: Federation,
) -> None:
    violations = Violations()
    nc = await nats.connect(federation.url("hz", SERVICE_USER), error_cb=violations.record)
    try:
        await nc.publish("alliance.sh.membership.carrier.registered", b"forged")
        await nc.publish("alliance.hz.membership.carrier.registered", b"own")
        await nc.flush()
        await asyncio.sleep(0.3)
        assert any("alliance.sh.membership" in v for v in violations.seen), violations.seen
        assert not any("alliance.hz.membership" in v for v in violations.seen)
    finally:
        await nc.close()
