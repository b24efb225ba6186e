"""Three (and four) regions, each with its own nats-server and JetStream domain, joined by leaf
links: every region holds every region's events, exactly once, and keeps exchanging them when
the hub is down."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from yrd_alliance.deployment.topology import local_topology
from yrd_alliance.kernel.federation import health_name

from tests.federation import Federation, held_by, wait_until_held
from tests.helpers import eventually

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

REGIONS = ["sh", "hz", "zjg"]


async def test_every_region_holds_every_event_exactly_once(federation: Federation) -> None:
    created = set()
    for name in REGIONS:
        created |= set(await federation.create_carriers(name, 20))
    for name in REGIONS:
        await wait_until_held(federation, name, created, within_s=15)
    for name in REGIONS:
        held = await held_by(federation, name)
        duplicates = [n for n, c in Counter(held).items() if c > 1]
        assert not duplicates, f"{name} holds duplicates: {duplicates[:3]}"
        assert set(held) == created


async def health_of(federation: Federation, region: str, name: str) -> int:
    """The health `region`'s membership service reports for `name`."""
    channel = federation.regions[region].channel
    assert channel is not None
    stub = health_pb2_grpc.HealthStub(channel)
    reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
    return int(reply.status)


async def until_health(federation: Federation, region: str, name: str, status: int) -> None:
    await eventually(
        lambda: health_of(federation, region, name),
        lambda s: s == status,
        f"{region}'s health of {name!r}",
        within_s=15,
    )


@pytest.mark.slow
async def test_spokes_keep_exchanging_while_the_hub_is_down(federation: Federation) -> None:
    before = set(await federation.create_carriers("hz", 3))
    await wait_until_held(federation, "zjg", before, within_s=15)
    await until_health(federation, "hz", health_name("sh"), SERVING)
    federation.regions["sh"].nats.stop()
    await until_health(federation, "hz", health_name("sh"), NOT_SERVING)
    # zjg's leaf link fails over from the hub to hz within seconds
    await until_health(federation, "hz", health_name("zjg"), SERVING)
    assert await health_of(federation, "hz", "") == SERVING, "a cut-off region still serves"
    during = set(await federation.create_carriers("hz", 5)) | set(
        await federation.create_carriers("zjg", 5)
    )
    await wait_until_held(federation, "zjg", {n for n in during if "/hz/" in n}, within_s=30)
    await wait_until_held(federation, "hz", {n for n in during if "/zjg/" in n}, within_s=30)
    federation.restart_nats("sh")
    seconds = await wait_until_held(federation, "sh", before | during, within_s=30)
    assert seconds < 30
    await until_health(federation, "hz", health_name("sh"), SERVING)


def test_leaf_remotes_put_the_hub_first_and_never_form_a_loop() -> None:
    topology = local_topology(["sh", "hz", "zjg", "sz"])
    assert topology.leaf_remotes("sh") == []
    url = {name: topology.region(name).leaf_url for name in topology.names}
    assert topology.leaf_remotes("hz") == [url["sh"]]
    assert topology.leaf_remotes("zjg") == [url["sh"], url["hz"]]
    assert topology.leaf_remotes("sz") == [url["sh"], url["hz"], url["zjg"]]
    solicits = {
        (a, b) for a in topology.names for b in topology.names if url[b] in topology.leaf_remotes(a)
    }
    assert not {(b, a) for a, b in solicits} & solicits, "two regions soliciting each other loop"
    config = topology.nats_config("hz", "/tmp/store")
    assert (
        "domain: hz" in config
        and "no_advertise: true" in config
        and "dont_randomize: true" in config
    )


async def test_a_fourth_region_is_one_entry(tmp_path: Path) -> None:
    four = await Federation.start([*REGIONS, "sz"], tmp_path)
    try:
        created = set()
        for name in four.topology.names:
            created |= set(await four.create_carriers(name, 3))
        for name in four.topology.names:
            await wait_until_held(four, name, created, within_s=20)
    finally:
        await four.stop()


async def test_directory_lists_every_region_locally_and_refuses_foreign_writes(
    federation: Federation,
) -> None:
    import grpc
    from alliance.membership.v1 import membership_pb2 as pb
    from google.protobuf.field_mask_pb2 import FieldMask

    from tests.conftest import Tokens, auth
    from tests.helpers import expect_error

    created = {name: set(await federation.create_carriers(name, 2)) for name in REGIONS}
    everyone = set().union(*created.values())
    hz = federation.regions["hz"].stub
    md = auth(Tokens("hz").operator())
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        listed = await hz.ListCarriers(pb.ListCarriersRequest(parent="regions/-"), metadata=md)
        if {
            c.name for c in listed.carriers
        } == everyone or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.05)
    assert {c.name for c in listed.carriers} == everyone
    only_sh = await hz.ListCarriers(pb.ListCarriersRequest(parent="regions/sh"), metadata=md)
    assert {c.name for c in only_sh.carriers} == created["sh"]

    sh_carrier = sorted(created["sh"])[0]
    sh_md = auth(Tokens("sh").operator())
    renamed = await federation.regions["sh"].stub.UpdateCarrier(
        pb.UpdateCarrierRequest(
            carrier=pb.Carrier(name=sh_carrier, city="苏州"), update_mask=FieldMask(paths=["city"])
        ),
        metadata=sh_md,
    )
    for _ in range(200):
        seen = await hz.GetCarrier(pb.GetCarrierRequest(name=sh_carrier), metadata=md)
        if seen == renamed:
            break
        await asyncio.sleep(0.05)
    assert seen == renamed, "hz's copy did not follow the update"

    foreign = pb.UpdateCarrierRequest(
        carrier=pb.Carrier(name=sh_carrier, city="杭州"), update_mask=FieldMask(paths=["city"])
    )
    error = await expect_error(
        hz.UpdateCarrier(foreign, metadata=auth(Tokens("sh").operator())),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "region sh" in (error.details() or "")
    await expect_error(
        hz.CreateStartup(
            pb.CreateStartupRequest(parent=sh_carrier, startup=pb.Startup(display_name="A")),
            metadata=md,
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


async def test_replication_status_over_grpc(federation: Federation) -> None:
    from alliance.federation.v1 import federation_pb2, federation_pb2_grpc

    from tests.conftest import Tokens, auth

    created = set(await federation.create_carriers("sh", 3))
    await wait_until_held(federation, "hz", created, within_s=15)
    channel = federation.regions["hz"].channel
    assert channel is not None
    stub = federation_pb2_grpc.FederationServiceStub(channel)
    for _ in range(50):
        status = await stub.GetReplicationStatus(
            federation_pb2.GetReplicationStatusRequest(), metadata=auth(Tokens("hz").partner())
        )
        if all(s.lag == 0 and s.reachable for s in status.sources):
            break
        await asyncio.sleep(0.1)
    assert status.region == "hz"
    assert {s.region for s in status.sources} == {"sh", "zjg"}
    assert all(s.lag == 0 and s.reachable for s in status.sources), status
    for other in ("sh", "zjg"):
        await until_health(federation, "hz", health_name(other), SERVING)


async def test_a_service_restarted_with_a_longer_federation_consumes_the_new_regions_history(
    federation: Federation,
) -> None:
    """hz's membership runs for a while knowing only sh; restarted with zjg in its list, its
    directory takes in the carriers zjg registered meanwhile."""
    from alliance.membership.v1 import membership_pb2 as pb

    from tests.conftest import Tokens, auth

    hz = federation.regions["hz"]
    assert hz.host is not None and hz.channel is not None
    await hz.channel.close()
    await hz.host.stop()
    await federation.start_service("hz", federation="sh,hz")
    md = auth(Tokens("hz").operator())

    async def zjg_carriers_in(region: str) -> list[str]:
        stub = federation.regions[region].stub
        reply = await stub.ListCarriers(pb.ListCarriersRequest(parent="regions/zjg"), metadata=md)
        return [c.name for c in reply.carriers]

    created = await federation.create_carriers("zjg", 3)
    await eventually(lambda: zjg_carriers_in("sh"), lambda names: len(names) == 3, "sh's copy")
    await asyncio.sleep(1.0)
    assert await zjg_carriers_in("hz") == [], "hz does not follow zjg yet"

    await federation.regions["hz"].channel.close()  # type: ignore[union-attr]
    await federation.regions["hz"].host.stop()  # type: ignore[union-attr]
    await federation.start_service("hz")  # every region again
    await eventually(
        lambda: zjg_carriers_in("hz"),
        lambda names: sorted(names) == sorted(created),
        "zjg's history in hz",
    )
