"""Observability benchmark: what the metrics and the traces cost, measured in one run.

  plain    membership without a metrics port and without an OTLP endpoint: nothing is counted
  metrics  the same with its Prometheus endpoint: every RPC, commit and publish counted
  traced   metrics and OTEL_EXPORTER_OTLP_ENDPOINT set: a span for every RPC and every event
           published, exported to an OTLP receiver in this process
  traced 10 %  the same, sampling one trace in ten (OTEL_TRACES_SAMPLER=parentbased_traceidratio)

GetCarrier (a read) and CreateCarrier (a durable write) at 16 calls in flight; each variant in
alternating rounds against `plain`, so the ratios come from the same minutes of the machine.

Run: .venv/bin/python -m bench.observability_bench   (about five minutes)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from alliance.membership.v1 import membership_pb2 as pb
from alliance.membership.v1 import membership_pb2_grpc as pb_grpc
from yrd_alliance.deployment.procs import ManagedProcess, NatsServer, ServiceProcess
from yrd_alliance.deployment.trace_sink import TraceSink
from yrd_alliance.kernel.auth import Role

from bench.harness import (
    IN_FLIGHT,
    Rounds,
    arguments,
    bearer,
    machine,
    open_channel,
    round_ratios,
    scratch,
    service_process,
    start,
)

# throughput ratio ≥ 0.95 (and CPU per call ≤ 1.05×) with metrics on and no OTLP endpoint
GOALS = {"metrics": "≥ 0.95", "traced": "reported", "traced 10 %": "reported"}


async def run(seconds: float, rounds: int) -> list[str]:
    work = scratch("alliance-bench-")
    nats_server = NatsServer(work / "js", log_path=work / "nats.log")
    processes: list[ManagedProcess] = [start(nats_server, nats_server.wait_ready)]
    sink = TraceSink()
    sink_port = await sink.start()
    try:
        otlp = f"http://127.0.0.1:{sink_port}"
        variants: dict[str, ServiceProcess] = {}
        sampled = {
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        }
        # each in a region of its own, so none applies another's events while it is measured
        for label, region, settings, environment in (
            ("plain", "plain", {}, {}),
            ("metrics", "metrics", {"metrics_port": "0"}, {}),
            ("traced", "traced", {"metrics_port": "0"}, {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp}),
            ("traced 10 %", "sampled", {"metrics_port": "0"},
             {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp, **sampled}),
        ):  # fmt: skip
            process = service_process(
                "membership", region, work=work, region=region, nats_url=nats_server.url,
                environment=environment, **settings,
            )  # fmt: skip
            processes.append(start(process, process.wait_ready))
            variants[label] = process
        lines = await _measure(variants, seconds, rounds)
        lines.append(f"\nspans received by the OTLP receiver: {len(sink.spans):,}")
        return lines
    finally:
        for process in reversed(processes):
            process.stop()
        await sink.stop()


async def _measure(variants: dict[str, ServiceProcess], seconds: float, rounds: int) -> list[str]:
    sample = pb.Carrier(
        display_name="杭州市科技企业孵化器", level=1, kind=1, city="杭州",
        industrial_chains=[2, 6], address="杭州市西湖区文三路199号",
    )  # fmt: skip
    regions = {
        label: process.name.removeprefix("membership-") for label, process in variants.items()
    }
    tokens = {label: bearer(Role.OPERATOR, region=region) for label, region in regions.items()}

    def create_request(label: str) -> pb.CreateCarrierRequest:
        return pb.CreateCarrierRequest(
            parent=f"regions/{regions[label]}", carrier=sample, request_id=str(uuid.uuid4())
        )

    channels = {label: open_channel(p.target) for label, p in variants.items()}
    try:
        stubs = {label: pb_grpc.MembershipServiceStub(ch) for label, ch in channels.items()}
        names = {
            label: (await stub.CreateCarrier(create_request(label), metadata=tokens[label])).name
            for label, stub in stubs.items()
        }

        def read(label: str) -> tuple[str, Callable[[], Awaitable[object]], int]:
            request = pb.GetCarrierRequest(name=names[label])
            return (
                f"GetCarrier, {label}",
                lambda: stubs[label].GetCarrier(request, metadata=tokens[label]),
                variants[label].pid,
            )

        def write(label: str) -> tuple[str, Callable[[], Awaitable[object]], int]:
            return (
                f"CreateCarrier, {label}",
                lambda: stubs[label].CreateCarrier(create_request(label), metadata=tokens[label]),
                variants[label].pid,
            )

        rows = []
        for kind in (read, write):
            for label in ("metrics", "traced", "traced 10 %"):
                measured = await round_ratios(kind(label), kind("plain"), seconds, rounds)
                rows.append(_row(measured, GOALS[label]))
    finally:
        for channel in channels.values():
            await channel.close()
    return [
        f"| call ({IN_FLIGHT} in flight; {rounds} rounds × {seconds:.0f} s, each after a round "
        "of `plain`) | throughput | p99 ms | `plain`, same run | throughput ratio | CPU µs per "
        "call, `plain` | CPU ratio | goal |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def _row(m: Rounds, goal: str) -> str:
    """Ratios as the median of the rounds' (lowest–highest)."""
    return (
        f"| {m.call.name} | {m.call.rate:,.0f}/s | {m.call.p99_ms:.2f} "
        f"| {m.base.rate:,.0f}/s, p99 {m.base.p99_ms:.2f} ms "
        f"| **{m.median(m.ratios):.2f}×** ({m.ratios[0]:.2f}–{m.ratios[-1]:.2f}) "
        f"| {m.cpu_us[0]:,.0f}, {m.cpu_us[1]:,.0f} "
        f"| **{m.median(m.cpu_ratios):.2f}×** ({m.cpu_ratios[0]:.2f}–{m.cpu_ratios[-1]:.2f}) "
        f"| {goal} |"
    )


def main() -> None:
    parser = arguments(__doc__, rounds=7)
    args = parser.parse_args()
    print("\n".join(asyncio.run(run(args.seconds, args.rounds))))
    print(f"\n{machine()}")


if __name__ == "__main__":
    main()
