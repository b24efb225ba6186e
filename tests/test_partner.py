"""Partners on a real three-region federation, as a careless or hostile partner would try it.
Each partner reads a copy of the region's events in an account of its own; every attack on the
services' consumers, inboxes and streams, or on another partner, is refused or lands in the
partner's own account — and the state is checked after each: stream counts, the services'
consumer filters, the other partner's consumers, and the services still receiving events."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
import pytest_asyncio
from alliance.membership.v1 import membership_pb2 as pb
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError
from yrd_alliance.deployment.nats_auth import SERVICE_USER
from yrd_alliance.kernel.streams import all_stream_name, events_stream_name

from tests.conftest import Tokens, auth
from tests.federation import Federation, wait_until_held
from tests.helpers import eventually

REGIONS = ["sh", "hz", "zjg"]
PROJECTION = "membership-projection"


@pytest_asyncio.fixture
async def federation(tmp_path: Path) -> AsyncIterator[Federation]:
    running = await Federation.start(REGIONS, tmp_path, partners=("demo", "acme"))
    try:
        yield running
    finally:
        await running.stop()


class Violations:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def record(self, error: Exception) -> None:
        self.seen.append(str(error))


async def _copy_of(federation: Federation, region: str, partner: str) -> set[str]:
    """The resource names in the partner's copy of the region's events."""
    nc = await federation.connect(region, partner)
    try:
        js = nc.jetstream()
        info = await js.stream_info(all_stream_name(region))
        names: set[str] = set()
        if not info.state.messages:
            return names
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(all_stream_name(region), seq, direct=True)
            names.add((msg.headers or {}).get("ce-subject", ""))
        return names
    finally:
        await nc.close()


async def _alliance_state(federation: Federation, region: str) -> dict[str, object]:
    """What no partner may change: stream counts and the services' durable filters."""
    nc = await federation.connect(region, SERVICE_USER)
    try:
        js = nc.jetstream()
        state: dict[str, object] = {}
        for stream in (events_stream_name(region), all_stream_name(region)):
            state[stream] = (await js.stream_info(stream)).state.messages
        consumer = await js.consumer_info(all_stream_name(region), PROJECTION)
        state[PROJECTION] = sorted(consumer.config.filter_subjects or [])
        return state
    finally:
        await nc.close()


async def test_a_partner_replays_from_the_start_and_resumes_its_durable_after_a_restart(
    federation: Federation,
) -> None:
    first = set(await federation.create_carriers("sh", 3))
    await eventually(lambda: _copy_of(federation, "hz", "demo"), lambda c: first <= c, "copy")
    nc = await federation.connect("hz", "demo")
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "alliance.sh.>", durable="dashboard", stream=all_stream_name("hz")
        )
        messages = await sub.fetch(10, timeout=5)
        assert {m.headers["ce-subject"] for m in messages if m.headers} == first
        for message in messages:
            await message.ack()
    finally:
        await nc.close()

    federation.regions["hz"].nats.stop()  # the partner's copy and durable outlive a restart
    await asyncio.to_thread(federation.restart_nats, "hz")
    later = set(await federation.create_carriers("sh", 2))
    await eventually(
        lambda: _copy_of(federation, "hz", "demo"), lambda c: later <= c, "copy", within_s=30
    )
    nc = await federation.connect("hz", "demo")
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            "alliance.sh.>", durable="dashboard", stream=all_stream_name("hz")
        )
        messages = await sub.fetch(10, timeout=5)
        assert {m.headers["ce-subject"] for m in messages if m.headers} == later, "resumed"
    finally:
        await nc.close()


async def test_a_partner_cannot_reach_the_services_consumers_inboxes_or_streams(
    federation: Federation,
) -> None:
    created = set(await federation.create_carriers("zjg", 2))
    await wait_until_held(federation, "hz", created, within_s=15)
    await eventually(lambda: _copy_of(federation, "hz", "demo"), lambda c: created <= c, "copy")
    before = await _alliance_state(federation, "hz")
    copy_before = await _copy_of(federation, "hz", "demo")

    violations = Violations()
    nc = await federation.connect("hz", "demo", error_cb=violations.record)
    snooped: list[dict[str, str]] = []  # headers of what reached the partner's inboxes
    try:

        async def snoop(message: Msg) -> None:
            snooped.append(dict(message.headers or {}))

        await nc.subscribe("_INBOX.>", cb=snoop)
        js = nc.jetstream(timeout=1)
        stream = all_stream_name("hz")
        # The services' durable, by every route a partner has: its own account answers.
        with pytest.raises(NotFoundError):
            await js.delete_consumer(stream, PROJECTION)
        with pytest.raises(NotFoundError):
            await js.consumer_info(stream, PROJECTION)
        # A durable of that name, filtered to nothing, is made in the partner's own account.
        await js.add_consumer(
            stream, ConsumerConfig(durable_name=PROJECTION, filter_subject="alliance.nowhere.>")
        )
        pull = json.dumps({"batch": 5, "expires": 500_000_000}).encode()  # 0.5 s
        try:
            pulled = await nc.request(
                f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{PROJECTION}", pull, timeout=2
            )
            assert "ce-id" not in (pulled.headers or {}), "a pull reached the services' durable"
        except nats.errors.TimeoutError:
            pass  # nothing came back at all
        await nc.publish(f"$JS.ACK.{stream}.{PROJECTION}.1.1.1.0.0", b"+ACK")  # its own, if any
        refused = {
            "delete through the export": nc.request(
                f"ALLIANCE.API.CONSUMER.DELETE.{stream}.{PROJECTION}", b"", timeout=1
            ),
            "reset its own feed": nc.request(
                f"ALLIANCE.API.CONSUMER.RESET.{stream}.partner-feed-demo", b"{}", timeout=1
            ),
            "publish an event": js.publish("alliance.hz.membership.carrier.registered", b"x"),
            "inject into its copy": nc.request("partner.deliver.hz.demo", b"x", timeout=1),
            "create a stream": js.add_stream(StreamConfig(name="OWN", subjects=["own.>"])),
            "update its copy": js.update_stream(StreamConfig(name=stream, max_msgs=1)),
            "purge its copy": js.purge_stream(stream),
            "delete its copy": js.delete_stream(stream),
            "read another region's copy": js.stream_info(all_stream_name("sh")),
        }
        for what, attempt in refused.items():
            with pytest.raises(Exception):  # noqa: B017  (refused: no reply, or an error)
                await attempt
                pytest.fail(f"{what} succeeded")
        await nc.flush()

        more = set(await federation.create_carriers("zjg", 3))  # services fetch meanwhile
        await eventually(
            lambda: _directory(federation, "hz"),
            lambda names: more <= names,
            "hz's membership still receives zjg's carriers",
        )
        await asyncio.sleep(0.3)
        assert snooped, "the snoop saw nothing at all, not even the partner's own replies"
        assert not [h for h in snooped if "ce-id" in h], "a service's fetched event leaked"
        assert sum("permissions violation" in v.lower() for v in violations.seen) >= 6
    finally:
        await nc.close()
    after = await _alliance_state(federation, "hz")
    assert after[PROJECTION] == before[PROJECTION], "the services' durable filter changed"
    assert after[events_stream_name("hz")] == before[events_stream_name("hz")]
    await eventually(
        lambda: _copy_of(federation, "hz", "demo"),
        lambda copy: copy_before | more <= copy,
        "the partner's copy keeps following",
    )


async def test_one_partner_cannot_touch_anothers_consumers(federation: Federation) -> None:
    stream = all_stream_name("sh")
    acme = await federation.connect("sh", "acme")
    demo = await federation.connect("sh", "demo")
    try:
        await acme.jetstream().add_consumer(stream, ConsumerConfig(durable_name="acme-dash"))
        js = demo.jetstream(timeout=1)
        with pytest.raises(NotFoundError):
            await js.delete_consumer(stream, "acme-dash")
        with pytest.raises(NotFoundError):
            await js.consumer_info(stream, "acme-dash")
        info = await acme.jetstream().consumer_info(stream, "acme-dash")
        assert info.name == "acme-dash"
    finally:
        await acme.close()
        await demo.close()


async def test_a_region_service_cannot_publish_another_regions_events(
    federation: Federation,
) -> None:
    violations = Violations()
    nc = await federation.connect("hz", SERVICE_USER, error_cb=violations.record)
    try:
        await nc.publish("alliance.sh.membership.carrier.registered", b"forged")
        await nc.publish("alliance.hz.membership.carrier.registered", b"own")
        await nc.flush()
        await asyncio.sleep(0.3)
        assert any("alliance.sh.membership" in v for v in violations.seen), violations.seen
        assert not any("alliance.hz.membership" in v for v in violations.seen)
    finally:
        await nc.close()


async def _directory(federation: Federation, region: str) -> set[str]:
    stub = federation.regions[region].stub
    reply = await stub.ListCarriers(
        pb.ListCarriersRequest(parent="regions/-", page_size=1000),
        metadata=auth(Tokens(region).operator()),
    )
    return {c.name for c in reply.carriers}


def test_partner_accounts_render_for_every_region(tmp_path: Path) -> None:
    """Each partner's account exports nothing back and imports only its own feed."""
    from yrd_alliance.cli.local import local_tls
    from yrd_alliance.deployment.nats_secrets import NatsSecrets
    from yrd_alliance.deployment.topology import local_topology

    config = local_topology(REGIONS).nats_config(
        "hz",
        str(tmp_path / "js"),
        keys=NatsSecrets.generate(REGIONS, ("demo", "acme")).region("hz"),
        tls=local_tls(tmp_path / "tls", "hz"),
    )
    assert config.count("PARTNER_DEMO {") == 1 and config.count("PARTNER_ACME {") == 1
    assert '"partner.deliver.hz.acme", accounts: [PARTNER_ACME]' in config
    assert "CONSUMER.CREATE" not in config.split("exports = [")[1].split("]")[0]
    assert json.dumps("ALLIANCE.API.>") in config


async def test_a_deployment_provisions_its_partners_from_the_environment(
    federation: Federation,
) -> None:
    """`alliance partner provision`, as an operator runs it beside a compose deployment: every
    configured partner's feed and copy, changing nothing that exists; a wrong key is refused."""
    keys = federation.keys.region("hz")
    env = {
        **os.environ,
        "ALLIANCE_NATS_SERVICE_PASSWORD": keys.service_password,
        "ALLIANCE_NATS_ADMIN_PASSWORD": keys.admin_password,
        "ALLIANCE_NATS_PARTNERS": ",".join(f"{n}={p}" for n, p in keys.partners.items()),
        "ALLIANCE_NATS_CA_FILE": str(federation.ca_file),
        "COLUMNS": "200",
    }
    before = await _copy_of(federation, "hz", "acme")

    async def provision(environment: dict[str, str]) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "alliance"), "partner", "provision",
            "--region", "hz", "--nats-url", federation.regions["hz"].nats.url,
            env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        return await process.wait(), out.decode()

    code, out = await provision(env)
    assert code == 0, out
    assert "acme: its copy of ALL_HZ is provisioned" in out and "demo:" in out
    assert await _copy_of(federation, "hz", "acme") == before, "provisioning again changed it"
    code, out = await provision({**env, "ALLIANCE_NATS_ADMIN_PASSWORD": "wrong"})
    assert code != 0 and "acme in hz" in out, out


async def test_a_regions_service_credentials_reach_nothing_beyond_its_own_streams(
    federation: Federation,
) -> None:
    """As if hz's service credentials had leaked: every destructive call on sh's streams and
    consumers through $JS.sh.API, and on hz's own streams, is refused and changes nothing."""
    await wait_until_held(federation, "sh", set(await federation.create_carriers("hz", 2)), 15)
    sh_before, hz_before = (
        await _alliance_state(federation, "sh"), await _alliance_state(federation, "hz")
    )  # fmt: skip
    violations = Violations()
    nc = await federation.connect("hz", SERVICE_USER, error_cb=violations.record)
    overheard: list[str] = []

    async def overhear(message: Msg) -> None:
        overheard.append(message.subject)

    try:
        await nc.subscribe(">", cb=overhear)
        attempts = [
            "$JS.sh.API.STREAM.DELETE.EVENTS_SH",
            "$JS.sh.API.STREAM.PURGE.ALL_SH",
            f"$JS.sh.API.CONSUMER.DELETE.ALL_SH.{PROJECTION}",
            "$JS.sh.API.CONSUMER.CREATE.ALL_SH.intruder",
            "$JS.sh.API.STREAM.UPDATE.ALL_SH",
            "$JS.API.STREAM.DELETE.EVENTS_HZ",
            "$JS.API.STREAM.PURGE.ALL_HZ",
            "$JS.API.STREAM.DELETE.ALL_HZ",
            "$JS.API.STREAM.CREATE.OTHER",
        ]
        for subject in attempts:
            with pytest.raises(Exception):  # noqa: B017  (no reply: the publish is refused)
                await nc.request(subject, b"{}", timeout=0.5)
        await nc.flush()
        await asyncio.sleep(0.3)
        denied = [v for v in violations.seen if "permissions violation" in v.lower()]
        assert len(denied) >= len(attempts), violations.seen
    finally:
        await nc.close()
    more = set(await federation.create_carriers("sh", 2))
    await eventually(lambda: _directory(federation, "hz"), lambda n: more <= n, "still flowing")
    sh_after, hz_after = (
        await _alliance_state(federation, "sh"), await _alliance_state(federation, "hz")
    )  # fmt: skip
    assert sh_after[PROJECTION] == sh_before[PROJECTION]
    assert hz_after[PROJECTION] == hz_before[PROJECTION]
    assert sh_after[events_stream_name("sh")] == sh_before[events_stream_name("sh")] + 2  # type: ignore[operator]
    assert not overheard, "a service user subscribed to everything"


async def test_a_leaf_certificate_opens_no_client_session(federation: Federation) -> None:
    """hz's leaf certificate (in hz's config, for its remote) logs in nowhere as a client: sh's
    client port maps no certificate to a user; the leaf link it is for keeps carrying hz's
    events. No config holds a leaf password: the links log in by certificate."""
    tls = federation.tls("hz")
    assert tls is not None and tls.leaf_cert and tls.leaf_key
    context = ssl.create_default_context(cafile=str(tls.ca))
    context.load_cert_chain(str(tls.leaf_cert), str(tls.leaf_key))
    with pytest.raises(Exception):  # noqa: B017  (an authorization violation)
        await nats.connect(
            federation.regions["sh"].nats.url, tls=context, allow_reconnect=False,
            connect_timeout=2,
        )  # fmt: skip
    config = (federation.folder / "nats" / "sh.conf").read_text()
    assert "verify_and_map: true" in config and "leaf-hz:" not in config
    created = set(await federation.create_carriers("hz", 2))
    await wait_until_held(federation, "sh", created, within_s=15)


async def test_a_compromised_region_reaches_nothing_of_another_through_its_leaf_link(
    federation: Federation,
) -> None:
    """hz's server with a user allowed everything (as if hz's operator were hostile or its host
    taken): sh's streams, consumers and subjects stay out of reach across the leaf link, which
    carries only what sourcing needs — and sourcing goes on."""
    import signal

    hz = federation.regions["hz"]
    config = federation.folder / "nats" / "hz.conf"
    text = config.read_text()
    config.write_text(
        text.replace(
            "    users = [\n", '    users = [\n      { user: root, password: "root" }\n', 1
        )
    )
    for _ in range(2):
        os.kill(hz.nats.pid, signal.SIGHUP)
        await asyncio.sleep(0.5)
    sh_before = await _alliance_state(federation, "sh")
    root = await nats.connect(
        hz.nats.url.replace("nats://", "nats://root:root@"), tls=federation.tls_context
    )
    try:
        for subject in (
            "$JS.sh.API.STREAM.DELETE.EVENTS_SH",
            "$JS.sh.API.STREAM.PURGE.ALL_SH",
            f"$JS.sh.API.CONSUMER.DELETE.ALL_SH.{PROJECTION}",
            "$JS.sh.API.STREAM.UPDATE.ALL_SH",
            "$JS.sh.API.STREAM.CREATE.INTRUDER",
        ):
            with pytest.raises(Exception):  # noqa: B017  (no responders across the link)
                await root.request(subject, b"{}", timeout=1)
        await root.publish("alliance.sh.membership.carrier.registered", b"forged")
        await root.flush()
    finally:
        await root.close()
    more = set(await federation.create_carriers("hz", 2))
    await wait_until_held(federation, "sh", more, within_s=15)
    sh_after = await _alliance_state(federation, "sh")
    assert sh_after[PROJECTION] == sh_before[PROJECTION]
    assert sh_after[events_stream_name("sh")] == sh_before[events_stream_name("sh")]
    assert sh_after[all_stream_name("sh")] == sh_before[all_stream_name("sh")] + 2  # type: ignore[operator]
