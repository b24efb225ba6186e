"""Federation benchmark, every figure beside a baseline measured in the same run:

  latency   raw: a JetStream publish in sh → its arrival on a consumer of hz's ALL_HZ
            service: CreateCarrier in sh returns → the carrier is visible to GetCarrier in hz
  stages    where the service path's time goes, from what the run left behind: the store times
            of each event in EVENTS_SH and ALL_HZ and the time hz's projection applied it
  catch-up  10,000 events published in sh while the sh–hz leaf link is cut → seconds from the
            heal until hz's ALL_HZ holds them all

Run: .venv/bin/python -m bench.federation_bench   (about a minute)
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import nats
from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from nats.aio.client import Client
from nats.js.api import DeliverPolicy
from yrd_alliance.cli.local import local_tls
from yrd_alliance.deployment.procs import ManagedProcess, region_nats
from yrd_alliance.deployment.topology import free_base_port, local_topology
from yrd_alliance.kernel.auth import Role
from yrd_alliance.kernel.nats_link import tls_context
from yrd_alliance.kernel.streams import all_stream_name, events_stream_name

from bench.harness import bearer, machine, open_channel, quantile, scratch, service_process
from tests.tcp_proxy import ProxyProcess

REGIONS = ["sh", "hz", "zjg"]
# Both paths look for the arrival this often, so neither probe loads the machine more.
POLL_S = 0.0002


async def run(samples: int, backlog: int) -> list[str]:
    work = scratch("alliance-fed-bench-")
    topology = local_topology(REGIONS, base_port=free_base_port(len(REGIONS)))
    proxy = ProxyProcess(topology.region("sh").leaf_port)  # the link, out of this process
    await proxy.start()
    processes: list[ManagedProcess] = []
    targets = {}
    tls_dir = work / "tls"  # every connection over TLS, as the federation runs
    try:
        for name in REGIONS:
            server = region_nats(
                topology, name, work / "nats", work / f"nats-{name}.log",
                tls=local_tls(tls_dir, name),
            )  # fmt: skip
            if name == "hz":  # hz reaches the hub only through the proxy
                config = work / "nats" / "hz.conf"
                config.write_text(
                    config.read_text().replace(
                        topology.region("sh").leaf_url, f"nats-leaf://127.0.0.1:{proxy.port}"
                    )
                )
            server.start()
            processes.append(server)
        for server in processes:
            await asyncio.to_thread(server.wait_ready)
        for name in REGIONS:
            service = service_process(
                "membership",
                name,
                work=work,
                region=name,
                nats_url=f"nats://127.0.0.1:{topology.region(name).client_port}",
                federation=",".join(REGIONS),
                nats_ca_file=str(tls_dir / "ca.pem"),
            )
            service.start()
            processes.append(service)
            await asyncio.to_thread(service.wait_ready)
            targets[name] = service.target
        urls = {name: f"nats://127.0.0.1:{topology.region(name).client_port}" for name in REGIONS}
        servers = Servers(urls, tls_context(tls_dir / "ca.pem"))
        await asyncio.sleep(3)  # let the supervisors bring every source up
        raw = await _raw_latency(servers, samples)
        returned_visible = await _service_latency(targets, samples)
        stages = await _stages(servers, work / "membership-hz.db", returned_visible)
        catch_up = await _catch_up(servers, proxy, backlog)
    finally:
        for process in reversed(processes):
            process.stop()
        await proxy.close()
    service_path = [visible - returned for returned, visible in returned_visible.values()]
    ratio = quantile(service_path, 0.99) / quantile(raw, 0.99)
    return [
        f"| path ({samples} sequential samples) | p50 ms | p99 ms | p99 ratio to raw | goal |",
        "|---|---|---|---|---|",
        f"| raw: JetStream publish in sh → consumer of ALL_HZ | {quantile(raw, 0.5):.2f} "
        f"| {quantile(raw, 0.99):.2f} | baseline | |",
        f"| service: CreateCarrier in sh returns → GetCarrier in hz finds it | "
        f"{quantile(service_path, 0.5):.2f} | {quantile(service_path, 0.99):.2f} | "
        f"**{ratio:.1f}×** | p99 ≤ 25 ms and ≤ 3× raw |",
        "",
        "| where the service path's time goes | p50 ms | p99 ms |",
        "|---|---|---|",
        *(
            f"| {stage} | {quantile(times, 0.5):.2f} | {quantile(times, 0.99):.2f} |"
            for stage, times in stages.items()
        ),
        "",
        f"catch-up: {backlog:,} events published in sh during a cut of the sh–hz link, all in "
        f"ALL_HZ **{catch_up:.2f} s** after the heal (goal ≤ 5 s)",
    ]


@dataclass(frozen=True)
class Servers:
    """The regions' NATS servers, reached over TLS as the services reach them."""

    urls: dict[str, str]
    tls: ssl.SSLContext | None

    async def connect(self, region: str) -> Client:
        return await nats.connect(self.urls[region], tls=self.tls)


async def _raw_latency(servers: Servers, samples: int) -> list[float]:
    sh, hz = await servers.connect("sh"), await servers.connect("hz")
    arrived: dict[str, float] = {}
    try:

        async def on_message(msg: nats.aio.msg.Msg) -> None:
            arrived[msg.data.decode()] = time.monotonic()

        await hz.jetstream().subscribe(
            "alliance.sh.bench.>",
            stream=all_stream_name("hz"),
            cb=on_message,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
        )
        sent: dict[str, float] = {}
        js = sh.jetstream()
        for i in range(samples):
            key = f"raw-{i}"
            sent[key] = time.monotonic()
            await js.publish(
                "alliance.sh.bench.ping.sent", key.encode(), headers={"Nats-Msg-Id": f"sh-{key}"}
            )
            while key not in arrived and time.monotonic() - sent[key] < 5:
                await asyncio.sleep(POLL_S)
        return [arrived[k] - t for k, t in sent.items() if k in arrived]
    finally:
        await sh.close()
        await hz.close()


async def _service_latency(targets: dict[str, str], samples: int) -> dict[str, tuple[float, float]]:
    """Per carrier created in sh: the wall-clock times its create returned and hz found it."""
    sh_md = bearer(Role.OPERATOR, region="sh")
    hz_md = bearer(Role.PARTNER)
    carrier = pb.Carrier(display_name="上海市科技创业中心", level=1, kind=1, city="上海")
    times = {}
    async with (
        open_channel(targets["sh"]) as sh_ch,
        open_channel(targets["hz"]) as hz_ch,
    ):
        sh, hz = pb_grpc.MembershipServiceStub(sh_ch), pb_grpc.MembershipServiceStub(hz_ch)
        for _ in range(samples):
            created = await sh.CreateCarrier(
                pb.CreateCarrierRequest(parent="regions/sh", carrier=carrier), metadata=sh_md
            )
            returned = time.time()
            while time.time() - returned < 5:
                try:
                    await hz.GetCarrier(pb.GetCarrierRequest(name=created.name), metadata=hz_md)
                    times[created.name] = (returned, time.time())
                    break
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                await asyncio.sleep(POLL_S)
    return times


async def _stages(
    servers: Servers, hz_db: Path, returned_visible: dict[str, tuple[float, float]]
) -> dict[str, list[float]]:
    """Splits each sample of the service path at the times the streams stored its event and
    hz's projection applied it (read after the run, so measuring adds no load)."""
    in_sh = await _stored_at(servers, "sh", events_stream_name("sh"), set(returned_visible))
    in_hz = await _stored_at(servers, "hz", all_stream_name("hz"), set(returned_visible))
    with sqlite3.connect(hz_db) as db:
        applied = dict(db.execute("SELECT event_id, applied_at FROM applied_events"))
    stages: dict[str, list[float]] = {
        "create returned → relay's publish stored in EVENTS_SH": [],
        "EVENTS_SH → sourced into ALL_HZ (over the leaf link)": [],
        "ALL_HZ → hz's projection applies it": [],
        "applied → committed and found by GetCarrier": [],
    }
    for name, (returned, visible) in returned_visible.items():
        if name not in in_sh or name not in in_hz or in_hz[name][1] not in applied:
            continue
        at_hz, event_id = in_hz[name]
        for stage, seconds in zip(
            stages.values(),
            (
                in_sh[name][0] - returned,
                at_hz - in_sh[name][0],
                applied[event_id] - at_hz,
                visible - applied[event_id],
            ),
            strict=True,
        ):
            stage.append(seconds)
    return stages


async def _stored_at(
    servers: Servers, region: str, stream: str, names: set[str]
) -> dict[str, tuple[float, str]]:
    """Resource name → (the time `stream` stored its event, the event id)."""
    nc = await servers.connect(region)
    found: dict[str, tuple[float, str]] = {}
    try:
        subscription = await nc.jetstream().subscribe(
            "alliance.sh.membership.carrier.>",
            stream=stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        while len(found) < len(names):
            msg = await subscription.next_msg(timeout=5)
            name = (msg.headers or {}).get("ce-subject", "")
            if name in names:
                found[name] = (msg.metadata.timestamp.timestamp(), (msg.headers or {})["ce-id"])
        return found
    finally:
        await nc.close()


async def _catch_up(servers: Servers, proxy: ProxyProcess, backlog: int) -> float:
    sh, hz = await servers.connect("sh"), await servers.connect("hz")
    try:
        before = (await hz.jetstream().stream_info(all_stream_name("hz"))).state.messages
        await proxy.cut()
        await asyncio.sleep(2)
        js = sh.jetstream()
        for start in range(0, backlog, 500):
            futures = [
                await js.publish_async(
                    "alliance.sh.bench.backlog.sent",
                    b"x" * 200,
                    headers={"Nats-Msg-Id": f"sh-backlog-{i}"},
                )
                for i in range(start, min(start + 500, backlog))
            ]
            await asyncio.gather(*futures)
        await proxy.heal()
        healed = time.monotonic()
        while time.monotonic() - healed < 180:
            held = (await hz.jetstream().stream_info(all_stream_name("hz"))).state.messages
            if held >= before + backlog:
                return time.monotonic() - healed
            await asyncio.sleep(0.05)
        raise TimeoutError("hz did not catch up within 180 s")
    finally:
        await sh.close()
        await hz.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=10_000)
    args = parser.parse_args()
    print("\n".join(asyncio.run(run(args.samples, args.backlog))))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
