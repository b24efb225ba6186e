"""Every change publishes exactly one CloudEvent, in commit order, decodable by any partner."""

from __future__ import annotations

from datetime import UTC, datetime

from alliance.membership.v1 import events_pb2 as ev
from alliance.membership.v1 import membership_pb2 as pb
from google.protobuf.field_mask_pb2 import FieldMask
from yrd_alliance.kernel.events import build_event, event_to_json

from tests.conftest import Membership, read_events


async def test_each_change_emits_one_event_in_commit_order(membership: Membership) -> None:
    m, md = membership, membership.op
    carrier = await m.create_carrier()
    updated = await m.stub.UpdateCarrier(
        pb.UpdateCarrierRequest(
            carrier=pb.Carrier(name=carrier.name, city="苏州", address="苏州工业园区"),
            update_mask=FieldMask(paths=["city", "address"]),
        ),
        metadata=md,
    )
    startup = await m.create_startup(carrier.name)
    await m.stub.UpdateStartup(
        pb.UpdateStartupRequest(
            startup=pb.Startup(name=startup.name, headcount=30),
            update_mask=FieldMask(paths=["headcount"]),
        ),
        metadata=md,
    )
    await m.stub.SuspendCarrier(
        pb.SuspendCarrierRequest(name=carrier.name, reason="年度复核"), metadata=md
    )
    left = await m.stub.LeaveAlliance(
        pb.LeaveAllianceRequest(name=carrier.name, reason="并入其他园区"), metadata=md
    )

    events = await read_events(m.nats_url, m.region, expected=6)
    r = m.region
    assert [e.subject for e in events] == [
        f"alliance.{r}.membership.carrier.registered",
        f"alliance.{r}.membership.carrier.updated",
        f"alliance.{r}.membership.startup.registered",
        f"alliance.{r}.membership.startup.updated",
        f"alliance.{r}.membership.carrier.suspended",
        f"alliance.{r}.membership.carrier.left",
    ]
    assert [e.type.rsplit(".", 1)[-1] for e in events] == [
        "CarrierRegistered",
        "CarrierUpdated",
        "StartupRegistered",
        "StartupUpdated",
        "CarrierSuspended",
        "CarrierLeft",
    ]
    assert len({e.id for e in events}) == 6 and all(e.id.startswith(f"{r}-") for e in events)
    assert [e.resource for e in events] == [carrier.name] * 2 + [startup.name] * 2 + [
        carrier.name
    ] * 2
    assert [e.version for e in events] == [1, 2, 1, 2, 3, 4]
    assert all(e.source == f"/alliance/{r}/membership" for e in events)

    registered = events[0].decode()
    assert isinstance(registered, ev.CarrierRegistered) and registered.carrier == carrier
    changed = events[1].decode()
    assert isinstance(changed, ev.CarrierUpdated)
    assert changed.carrier == updated and list(changed.changed_fields) == ["city", "address"]
    final = events[5].decode()
    assert (
        isinstance(final, ev.CarrierLeft)
        and final.carrier == left
        and final.reason == "并入其他园区"
    )


async def test_cloudevents_headers_on_the_wire(membership: Membership) -> None:
    import nats

    carrier = await membership.create_carrier()
    await read_events(membership.nats_url, membership.region, expected=1)  # the relay is async
    nc = await nats.connect(membership.nats_url)
    try:
        msg = await nc.jetstream().get_msg(f"EVENTS_{membership.region.upper()}", 1)
    finally:
        await nc.close()
    headers = msg.headers or {}
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] == headers["Nats-Msg-Id"]
    assert headers["ce-type"] == "cn.yrd.alliance.membership.v1.CarrierRegistered"
    assert headers["ce-source"] == f"/alliance/{membership.region}/membership"
    assert headers["ce-subject"] == carrier.name
    assert headers["content-type"] == "application/protobuf"
    assert datetime.fromisoformat(headers["ce-time"].replace("Z", "+00:00")).tzinfo is not None


async def test_refused_changes_emit_nothing(membership: Membership) -> None:
    carrier = await membership.create_carrier()
    stale = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=carrier.name, city="x", etag="stale"),
        update_mask=FieldMask(paths=["city"]),
    )
    try:
        await membership.stub.UpdateCarrier(stale, metadata=membership.op)
    except Exception:
        pass
    await membership.create_carrier()
    events = await read_events(membership.nats_url, membership.region, expected=2)
    assert [e.subject.rsplit(".", 2)[-2:] for e in events] == [["carrier", "registered"]] * 2


def test_event_json_view_for_partners() -> None:
    carrier = pb.Carrier(
        name="regions/sh/carriers/01J0000000000000000000000Z", display_name="上海市科技创业中心"
    )
    event = build_event(
        region="sh",
        service="membership",
        entity="carrier",
        verb="registered",
        resource=carrier.name,
        version=1,
        payload=ev.CarrierRegistered(carrier=carrier),
        now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    view = event_to_json(event)
    assert view["type"] == "cn.yrd.alliance.membership.v1.CarrierRegistered"
    assert view["time"] == "2026-01-02T03:04:05Z"
    assert view["data"] == {"carrier": {"name": carrier.name, "displayName": "上海市科技创业中心"}}


def test_every_service_event_type_decodes_through_the_one_registry() -> None:
    """A partner's reader knows every service's events, not only membership's."""
    import subprocess
    import sys

    # A fresh interpreter: nothing imported beforehand may register the types by accident.
    script = (
        "from yrd_alliance.kernel.event_types import registry\n"
        "from yrd_alliance.kernel.events import build_event, event_to_json\n"
        "for name, cls in sorted(registry().items()):\n"
        "    e = build_event(region='sh', service='x', entity='e', verb='v', resource='r',\n"
        "                    version=1, payload=cls())\n"
        "    view = event_to_json(e)\n"
        "    assert 'data' in view and 'error' not in view, view\n"
        "    print(name)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    services = {name.split(".")[3] for name in out}
    assert services == {"membership", "operations", "pairing", "sharing"}, out
    kinds = (
        "ResourceCreated",
        "BookingChanged",
        "CheckupCompleted",
        "LawyerRegistered",
        "TokenRevoked",
    )
    for expected in kinds:
        assert any(name.endswith("." + expected) for name in out), expected


def test_an_event_of_an_unknown_type_is_shown_not_fatal() -> None:
    event = build_event(
        region="sh",
        service="membership",
        entity="carrier",
        verb="registered",
        resource="regions/sh/carriers/x",
        version=1,
        payload=ev.CarrierRegistered(),
    )
    odd = type(event)(**{**event.__dict__, "type": "cn.yrd.alliance.future.v9.Thing"})
    view = event_to_json(odd)
    assert "data" not in view and "future" in view["error"] and "data_base64" in view
