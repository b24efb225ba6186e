"""`alliance up` as `make run` uses it: real processes, demo data, a printed command that works,
status, and a clean stop on Ctrl-C that leaves no process behind."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from alliance.pairing.v1 import pairing_pb2 as pairing_pb
from alliance.pairing.v1 import pairing_pb2_grpc as pairing_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from yrd_alliance.cli import demo, pairing_demo
from yrd_alliance.cli.local import METRICS_OFFSET, PORTS_PER_SERVICE, SERVICES
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.deployment.nats_auth import SERVICE_USER
from yrd_alliance.deployment.ports import EPHEMERAL_PORTS, free_port, free_port_block
from yrd_alliance.deployment.topology import free_base_port
from yrd_alliance.kernel.auth import Role

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


# `alliance up`'s port options: each a base port drawn from [start, stop), and the offsets of
# the ports it derives. NATS: client, leaf, monitor per region. gRPC: a block of ten per service,
# one port per region, metrics 1000 above. Portals: one per region, metrics 1000 above.
PORT_OPTIONS = {
    "--nats-port": ([offset + r for offset in (0, 3200, 4000) for r in range(3)], 20000, 23900),
    "--grpc-port": (
        [
            PORTS_PER_SERVICE * s + r + m
            for s in range(len(SERVICES))
            for r in range(3)
            for m in (0, METRICS_OFFSET)
        ],
        28000,
        29400,
    ),
    "--portal-port": ([r + m for r in range(3) for m in (0, METRICS_OFFSET)], 30500, 31700),
}


def free_ports() -> list[str]:
    """`alliance up`'s port options, each block of ports free on loopback now."""
    return [
        str(part)
        for option, (offsets, start, stop) in PORT_OPTIONS.items()
        for part in (option, free_port_block(offsets, start=start, stop=stop))
    ]


def test_the_port_options_ranges_never_meet_nor_reach_the_ephemeral_ports() -> None:
    """`alliance up` checks a block's ports just before starting its servers; if blocks could
    overlap, an earlier block's server could hold a later block's port (a CI run failed so)."""
    spans = sorted(
        (start + min(offsets), stop - 1 + max(offsets))
        for offsets, start, stop in PORT_OPTIONS.values()
    )
    for (_, end), (next_start, _) in itertools.pairwise(spans):
        assert end < next_start, spans
    assert spans[-1][1] < EPHEMERAL_PORTS, spans


def _alliance(*args: str, base: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs the CLI as an operator would, against the local federation in `base`."""
    return subprocess.run(
        [str(BIN / "alliance"), *args, "--base-dir", str(base)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _wait_for_line(
    proc: subprocess.Popen[str], text: str, lines: list[str], timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"`alliance up` exited early:\n{''.join(lines)}")
        lines.append(line)
        if text in line:
            return
    raise AssertionError(f"no {text!r} within {timeout}s:\n{''.join(lines)}")


def _all_names(
    stub: pb_grpc.MembershipServiceStub, md: tuple[tuple[str, str], ...], region: str
) -> tuple[list[pb.Carrier], int]:
    """The region's own carriers and their startups."""
    carriers = list(
        stub.ListCarriers(
            pb.ListCarriersRequest(parent=f"regions/{region}", page_size=100), metadata=md
        ).carriers
    )
    startups = sum(
        len(
            stub.ListStartups(
                pb.ListStartupsRequest(parent=c.name, page_size=100), metadata=md
            ).startups
        )
        for c in carriers
    )
    return carriers, startups


def test_up_serves_demo_data_prints_a_working_command_and_stops_cleanly(tmp_path: Path) -> None:
    base = tmp_path / "var"
    command = [str(BIN / "alliance"), "up", "--base-dir", str(base), *free_ports()]
    env = {**os.environ, "COLUMNS": "400"}
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        _wait_for_line(proc, "ready", lines)
        output = "".join(lines)
        assert "demo data: 10 carriers, 230 startups" in output
        assert "demo pairing: 40 lawyer–carrier pairs, 230 check-ups" in output
        assert "demo sharing: 498 service items" in output
        curl = next(line for line in lines if " curl " in line)
        reply = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=60)
        assert reply.returncode == 0, reply.stderr
        assert len(json.loads(reply.stdout)["carriers"]) == 3

        status = _alliance("status", base=base, env=env)
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("SERVING") == 12  # three services and a portal per region
        assert "hz, zjg" in status.stdout, "the hub should list both spokes as leaf links"

        state = json.loads((base / "state.json").read_text())
        assert output.count("/metrics") == 9, "make run says where each service's metrics are"
        for endpoint in state["endpoints"]:  # every service serves its metrics
            with urllib.request.urlopen(endpoint["metrics"], timeout=5) as response:
                text = response.read().decode()
            assert f'region="{endpoint["region"]}"' in text
            assert "grpc_server_handled_total" in text and "alliance_outbox_backlog" in text
        issuer = Issuer(base / "issuer")  # the launcher's; the services hold only its JWKS
        assert not list(base.rglob("*.secret")), "no shared token secret is written anywhere"
        members = [e for e in state["endpoints"] if e["service"] == "membership"]
        per_region = {}
        for endpoint in members:
            md = (("authorization", f"Bearer {issuer.sign(subject='t', role=Role.PARTNER)}"),)
            with GrpcTarget(endpoint["target"], base / "tls" / "ca.pem").channel() as channel:
                stub = pb_grpc.MembershipServiceStub(channel)
                per_region[endpoint["region"]] = _all_names(stub, md, endpoint["region"])
                directory = _wait_for_directory(stub, md, 10)
                assert len(directory) == 10, f"{endpoint['region']} lists {len(directory)} of 10"
        carriers = [c for cs, _ in per_region.values() for c in cs]
        assert len(carriers) == 10 and sum(s for _, s in per_region.values()) == 230
        assert all(
            c.level in (pb.CARRIER_LEVEL_NATIONAL, pb.CARRIER_LEVEL_PROVINCIAL) for c in carriers
        )
        assert sorted(c.display_name for c in carriers if c.lead_member) == [
            "上海市科技创业中心",
            "杭州高新区科技创业服务中心",
        ]

        seeded_again = _alliance("seed", base=base, env=env)
        assert seeded_again.returncode == 0, seeded_again.stdout + seeded_again.stderr
        again = {}
        for endpoint in members:
            with GrpcTarget(endpoint["target"], base / "tls" / "ca.pem").channel() as channel:
                stub = pb_grpc.MembershipServiceStub(channel)
                again[endpoint["region"]] = _all_names(stub, md, endpoint["region"])
        assert {r: (len(cs), s) for r, (cs, s) in again.items()} == {
            r: (len(cs), s) for r, (cs, s) in per_region.items()
        }, "seeding twice must change nothing"
        plan = _alliance("pair", base=base, env=env)
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert "40 pairs" in plan.stdout and "blocking pairs" in plan.stdout
        assert plan.stdout.count("律师事务所") == 40, "one row per pair"
        zjg_pairing = next(
            e["target"]
            for e in state["endpoints"]
            if e["service"] == "pairing" and e["region"] == "zjg"
        )
        with GrpcTarget(zjg_pairing, base / "tls" / "ca.pem").channel() as channel:
            stats = pairing_grpc.PairingServiceStub(channel).GetPairingStats(
                pairing_pb.GetPairingStatsRequest(parent="regions/zjg"), metadata=md
            )
        assert (stats.checkups_booked, stats.startups_served) == (230, 230), (
            "seeding twice must book no check-up twice"
        )
        assert len(stats.startups_served_by_carrier) == 10
        tail = _alliance(
            "events",
            "tail",
            "--at",
            "hz",
            "--region",
            "zjg",
            "--from-start",
            "--limit",
            "3",
            base=base,
            env=env,
        )
        assert tail.returncode == 0, tail.stderr
        events = [json.loads(line) for line in tail.stdout.splitlines()]
        assert len(events) == 3 and all(e["source"] == "/alliance/zjg/membership" for e in events)
        for service in ("sharing", "pairing"):  # a partner follows every service's events
            tail = _alliance(
                "events", "tail", "--at", "hz", "--service", service, "--from-start",
                "--limit", "20", base=base, env=env,
            )  # fmt: skip
            assert tail.returncode == 0, tail.stderr
            events = [json.loads(line) for line in tail.stdout.splitlines()]
            assert len(events) == 20, tail.stdout
            assert all(e["source"].endswith(f"/{service}") and "data" in e for e in events)
        _a_message_that_is_no_event_shows_in_status(base, env, state)
        _a_partner_is_added_rotated_and_removed(base, env)
        _a_killed_service_is_reported_and_serves_again(proc, lines, base)
        children = _children(proc.pid)
        assert len(children) >= 12  # a NATS server and three services per region
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert code == 0, "".join(lines) + (proc.stdout.read() if proc.stdout else "")
    assert not [pid for pid in children if _alive(pid)], "`alliance up` left processes behind"
    assert not (base / "state.json").exists()


def _a_killed_service_is_reported_and_serves_again(
    proc: subprocess.Popen[str], lines: list[str], base: Path
) -> None:
    """As compose's `restart: unless-stopped`: SIGKILLed, sh's membership is reported with its
    last log lines and serves again within 5 s."""
    state = json.loads((base / "state.json").read_text())
    victim = next(
        e for e in state["endpoints"] if e["service"] == "membership" and e["region"] == "sh"
    )
    os.kill(victim["pid"], signal.SIGKILL)
    killed = time.monotonic()
    health = GrpcTarget(victim["target"], base / "tls" / "ca.pem")
    while True:
        with health.channel() as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=0.5
                )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
        assert time.monotonic() - killed < 5, "not serving again within 5 s"
        time.sleep(0.05)
    _wait_for_line(proc, "membership-sh exited (signal 9)", lines, timeout=10)
    _wait_for_line(proc, "membership-sh restarted", lines, timeout=10)
    report = "".join(lines[-8:])
    assert "its last lines:" in report and "membership/sh" in report, report
    now = json.loads((base / "state.json").read_text())
    pid = next(e["pid"] for e in now["endpoints"] if e["target"] == victim["target"])
    assert pid != victim["pid"] and _alive(pid), "the state names the new process"


def _wait_for_directory(
    stub: pb_grpc.MembershipServiceStub, md: tuple[tuple[str, str], ...], expected: int
) -> list[str]:
    """Every region's carriers as this region lists them (its federated directory)."""
    deadline = time.monotonic() + 15
    while True:
        reply = stub.ListCarriers(pb.ListCarriersRequest(parent="regions/-"), metadata=md)
        names = [c.name for c in reply.carriers]
        if len(names) >= expected or time.monotonic() > deadline:
            return names
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_demo_round_has_ten_carriers_and_230_startups() -> None:
    assert len(demo.CARRIERS) == 10
    assert {c.region for c in demo.CARRIERS} == {"sh", "hz", "zjg"}
    assert sum(len(demo.startups_of(c)) for c in demo.CARRIERS) == 230
    assert demo.startups_of(demo.CARRIERS[0]) == demo.startups_of(demo.CARRIERS[0]), (
        "must be deterministic"
    )


def test_demo_lawyers_are_forty_across_the_regions_and_deterministic() -> None:
    lawyers = pairing_demo.demo_lawyers()
    assert len(lawyers) == 40 == 4 * len(demo.CARRIERS)
    assert {region for region, _ in lawyers} == {"sh", "hz", "zjg"}
    assert lawyers == pairing_demo.demo_lawyers()
    assert all(x.specialties and x.firm for _, x in lawyers)


def test_a_failed_start_stops_everything_it_had_started(tmp_path: Path) -> None:
    import socket

    from yrd_alliance.cli.local import PORTS_PER_SERVICE, LocalFederation
    from yrd_alliance.deployment.topology import local_topology

    topology = local_topology(["sh", "hz"], base_port=free_base_port(2))
    with socket.socket() as blocker:
        for _ in range(20):  # a port above a free one may be held by someone else already
            grpc_port = free_port()
            taken = grpc_port + PORTS_PER_SERVICE + 1  # pairing in hz: after sh's services
            try:
                blocker.bind(("127.0.0.1", taken))
                break
            except OSError:
                continue
        blocker.listen()
        federation = LocalFederation(
            tmp_path, topology, grpc_base_port=grpc_port, portal_base_port=free_port()
        )
        with pytest.raises(SystemExit, match="is in use"):  # {taken}, or one taken meanwhile
            federation.start()
    assert not federation.processes
    for port in (grpc_port, grpc_port + PORTS_PER_SERVICE, topology.region("sh").client_port):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))  # free again: whoever held it was stopped
    assert not (tmp_path / "state.json").exists()


def _a_message_that_is_no_event_shows_in_status(
    base: Path, env: dict[str, str], state: dict[str, Any]
) -> None:
    """Published with the services' credentials, it is set aside by every region's sharing
    consumer; status turns red within seconds, and the operator discards it."""
    keys = json.loads((base / "nats.secrets").read_text())
    hz = next(n for n in state["nats"] if n["region"] == "hz")["url"]
    password = keys["regions"]["hz"]["service_password"]
    url = hz.replace("nats://", f"nats://{SERVICE_USER}:{password}@")

    async def publish() -> None:
        nc = await nats.connect(url, tls=_tls(base))
        try:
            await nc.jetstream().publish("alliance.hz.sharing.booking.held", b"junk")
        finally:
            await nc.close()

    asyncio.run(publish())
    started, names = time.monotonic(), []
    while time.monotonic() - started < 20 and len(names) < 3:
        listing = _alliance("dead-letters", "list", "--service", "sharing", base=base, env=env)
        assert listing.returncode == 0, listing.stderr
        names = re.findall(r"regions/\w+/services/sharing/deadLetters/\d+", listing.stdout)
    assert len(names) == 3, "one dead letter in each region's sharing"
    status = _alliance("status", base=base, env=env)
    assert status.returncode == 1, status.stdout
    sharing_rows = [line for line in status.stdout.splitlines() if " sharing " in line]
    assert len(sharing_rows) == 3 and all(row.rstrip(" │").endswith("1") for row in sharing_rows)
    shown = _alliance("dead-letters", "show", names[0], base=base, env=env)
    assert "not a CloudEvent" in shown.stdout, shown.stdout + shown.stderr
    for name in names:
        discarded = _alliance("dead-letters", "discard", name, base=base, env=env)
        assert discarded.returncode == 0, discarded.stdout + discarded.stderr
    status = _alliance("status", base=base, env=env)
    assert status.returncode == 0, status.stdout


def _a_partner_is_added_rotated_and_removed(base: Path, env: dict[str, str]) -> None:
    """Its own account in every region, seeing only what it was given; a rotated password
    works at once and the old one no longer; once removed, nothing of it is left."""

    def hz_url(output: str) -> str:
        match = re.search(r"hz: (nats://acme:\S+)", output)
        assert match, output
        return match.group(1)

    async def subjects_seen(url: str) -> set[str]:
        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2, tls=_tls(base))
        try:
            js = nc.jetstream()
            for _ in range(100):
                info = await js.stream_info("ALL_HZ")
                if info.state.messages:
                    break
                await asyncio.sleep(0.1)
            sub = await js.pull_subscribe("alliance.>", stream="ALL_HZ")
            return {m.subject for m in await sub.fetch(50, timeout=5)}
        finally:
            await nc.close()

    async def refused(url: str) -> bool:
        try:
            nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2, tls=_tls(base))
        except Exception:
            return True
        await nc.close()
        return False

    added = _alliance(
        "partner", "add", "acme", "--subjects", "alliance.*.membership.>", base=base, env=env
    )
    assert added.returncode == 0, added.stdout + added.stderr
    first = hz_url(added.stdout)
    seen = asyncio.run(subjects_seen(first))
    assert seen and all(".membership." in subject for subject in seen), seen
    listing = _alliance("partner", "list", base=base, env=env)
    assert "acme" in listing.stdout and "alliance.*.membership.>" in listing.stdout
    rotated = _alliance("partner", "rotate", "acme", base=base, env=env)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    second = hz_url(rotated.stdout)
    assert asyncio.run(refused(first)) and not asyncio.run(refused(second))
    removed = _alliance("partner", "remove", "acme", base=base, env=env)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert asyncio.run(refused(second))
    assert "acme" not in _alliance("partner", "list", base=base, env=env).stdout


def _tls(base: Path) -> ssl.SSLContext:
    """The local federation's NATS servers take TLS only, signed by its own CA."""
    return ssl.create_default_context(cafile=str(base / "tls" / "ca.pem"))


def test_the_local_nats_servers_refuse_plaintext(tmp_path: Path) -> None:
    """A client that does not speak TLS gets nothing from them, credentials or not."""
    from yrd_alliance.cli.local import local_tls
    from yrd_alliance.deployment.nats_secrets import NatsSecrets
    from yrd_alliance.deployment.procs import region_nats
    from yrd_alliance.deployment.topology import local_topology

    topology = local_topology(["sh"], base_port=free_base_port(1))
    server = region_nats(
        topology, "sh", tmp_path, tmp_path / "sh.log",
        keys=NatsSecrets.generate(["sh"]), tls=local_tls(tmp_path / "tls", "sh"),
    )  # fmt: skip
    server.start()
    try:
        server.wait_ready()
        with socket.create_connection(("127.0.0.1", server.port), timeout=3) as conn:
            info = json.loads(conn.recv(4096).decode().removeprefix("INFO "))
            assert info["tls_required"] is True
            conn.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
            conn.settimeout(3)
            try:
                reply = conn.recv(4096)
            except (TimeoutError, ConnectionError):
                reply = b""
            assert b"PONG" not in reply, reply
    finally:
        server.stop()
