"""Observability benchmark: what the metrics and the traces cost, measured in one run.

  plain    membership without a metrics port and without an OTLP endpoint: nothing is counted
  metrics  the same with its Prometheus endpoint: every RPC, commit and publish counted
  traced   metrics and OTEL_EXPORTER_OTLP_ENDPOINT set: a span for every RPC and every event
           published, exported to an OTLP receiver in this process

GetCarrier (a read) and CreateCarrier (a durable write) at 16 calls in flight; each variant in
alternating rounds against `plain`, so the ratios come from the same minutes of the machine.

Run: .venv/bin/python -m bench.observability_bench   (about two minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from yrd_alliance.deployment.procs import ManagedProcess, NatsServer, ServiceProcess
from yrd_alliance.deployment.trace_sink import TraceSink
from yrd_alliance.kernel.auth import Role

from bench.harness import IN_FLIGHT, bearer, open_channel, paired, row, service_process, start

REGION = "bench"
GOALS = {"metrics": "≥ 0.95", "traced": "reported"}


async def run(seconds: float, rounds: int) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    processes: list[ManagedProcess] = [start(nats_server, nats_server.wait_ready)]
    sink = TraceSink()
    sink_port = await sink.start()
    try:
        variants: dict[str, ServiceProcess] = {}
        for label, settings, environment in (
            ("plain", {}, {}),
            ("metrics", {"metrics_port": "0"}, {}),
            ("traced", {"metrics_port": "0"},
             {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}"}),
        ):  # fmt: skip
            process = service_process(
                "membership", label, work=work, region=REGION, nats_url=nats_server.url,
                environment=environment, **settings,
            )  # fmt: skip
            processes.append(start(process, process.wait_ready))
            variants[label] = process
        lines = await _measure(variants, seconds, rounds)
        lines.append(f"\nspans received from `traced`: {len(sink.spans):,}")
        return lines
    finally:
        for process in reversed(processes):
            process.stop()
        await sink.stop()


async def _measure(variants: dict[str, ServiceProcess], seconds: float, rounds: int) -> list[str]:
    md = bearer(Role.OPERATOR, region=REGION)
    sample = pb.Carrier(
        display_name="杭州市科技企业孵化器", level=1, kind=1, city="杭州",
        industrial_chains=[2, 6], address="杭州市西湖区文三路199号",
    )  # fmt: skip

    def create_request() -> pb.CreateCarrierRequest:
        return pb.CreateCarrierRequest(
            parent=f"regions/{REGION}", carrier=sample, request_id=str(uuid.uuid4())
        )

    channels = {label: open_channel(p.target) for label, p in variants.items()}
    try:
        stubs = {label: pb_grpc.MembershipServiceStub(ch) for label, ch in channels.items()}
        names = {
            label: (await stub.CreateCarrier(create_request(), metadata=md)).name
            for label, stub in stubs.items()
        }

        def read(label: str) -> tuple[str, object]:
            request = pb.GetCarrierRequest(name=names[label])
            return f"GetCarrier, {label}", lambda: stubs[label].GetCarrier(request, metadata=md)

        def write(label: str) -> tuple[str, object]:
            return f"CreateCarrier, {label}", lambda: stubs[label].CreateCarrier(
                create_request(), metadata=md
            )

        rows = []
        for kind in (read, write):
            for label in ("metrics", "traced"):
                call, base = await paired(kind(label), kind("plain"), seconds, rounds)  # type: ignore[arg-type]
                rows.append(row(call, base, GOALS[label]))
    finally:
        for channel in channels.values():
            await channel.close()
    return [
        f"| call ({IN_FLIGHT} in flight; median of {rounds} × {seconds:.0f} s) "
        "| throughput | p50 ms | p99 ms | baseline, same run | ratio | p99 ratio | goal |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per pair")
    args = parser.parse_args()
    print("\n".join(asyncio.run(run(args.seconds, args.rounds))))
    print(
        f"\n({time.strftime('%Y-%m-%d')}, python {sys.version.split()[0]}, {os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
