"""What every service benchmark shares: a load of IN_FLIGHT concurrent calls, pairing a call
with its baseline in alternating rounds, starting processes, and the README's table rows."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from yrd_alliance.cli.certs import LOCAL_HOSTS, server_certificate
from yrd_alliance.deployment.channels import GrpcTarget
from yrd_alliance.deployment.issuer import Issuer
from yrd_alliance.deployment.ports import free_port
from yrd_alliance.deployment.procs import ManagedProcess, ServiceProcess
from yrd_alliance.kernel.auth import Role

IN_FLIGHT = 16
WARM_UP_S = 0.5  # a load's first calls, not measured


def scratch(prefix: str) -> Path:
    """A new folder for a benchmark's files (databases, logs, the search index), removed when
    the benchmark's process exits."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


# The benchmarks' token issuer: its key signs their tokens, the services get its JWKS.
ISSUER = Issuer.load_or_create(scratch("bench-issuer-"))
SIGNING_KEY = ISSUER.key()
JWKS = ISSUER.jwks_path
# Every server of a benchmark, the baselines too, serves TLS with this certificate; with
# BENCH_PLAINTEXT=1 all of them serve plaintext instead, to measure what TLS costs.
TLS = server_certificate(ISSUER.folder / "tls", "grpc-bench", LOCAL_HOSTS)
PLAINTEXT = os.environ.get("BENCH_PLAINTEXT") == "1"
BASELINE_ENV = {} if PLAINTEXT else {"BENCH_TLS_CERT": str(TLS.cert), "BENCH_TLS_KEY": str(TLS.key)}
TRANSPORT = (
    {"plaintext": True} if PLAINTEXT else {"tls_cert_file": TLS.cert, "tls_key_file": TLS.key}
)


def target(address: str) -> GrpcTarget:
    """A server of the benchmark (host:port), verified by the benchmark's CA."""
    return GrpcTarget(address, None if PLAINTEXT else TLS.ca)


def open_channel(address: str) -> grpc.aio.Channel:
    return target(address).aio_channel()


def bearer(role: Role, **claims: str) -> tuple[tuple[str, str], ...]:
    """Call metadata with a token of that role, valid for an hour."""
    return (("authorization", f"Bearer {ISSUER.sign(subject='bench', role=role, **claims)}"),)


@dataclass
class Figure:
    name: str
    rate: float  # calls per second
    p50_ms: float
    p99_ms: float


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def load(name: str, call: Callable[[], Awaitable[object]], seconds: float) -> Figure:
    """Keeps IN_FLIGHT calls running for `seconds` after a short warm-up; rate and latency."""
    latencies: list[float] = []
    stop_at = time.monotonic() + WARM_UP_S + seconds
    measure_from = time.monotonic() + WARM_UP_S

    async def worker() -> None:
        while (start := time.monotonic()) < stop_at:
            await call()
            if start >= measure_from:
                latencies.append(time.monotonic() - start)

    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return Figure(
        name, len(latencies) / seconds, quantile(latencies, 0.5), quantile(latencies, 0.99)
    )


def calls_made(figure: Figure, seconds: float) -> float:
    """About how many calls a `load` of `seconds` made, the warm-up's too."""
    return figure.rate * (seconds + WARM_UP_S)


async def load_each(name: str, calls: list[Callable[[], Awaitable[object]]]) -> Figure:
    """Runs every call once, IN_FLIGHT at a time (none repeated, so no cache can answer one
    from an earlier); rate and latency over all of them."""
    latencies: list[float] = []
    pending = iter(calls)

    async def worker() -> None:
        for call in pending:
            start = time.monotonic()
            await call()
            latencies.append(time.monotonic() - start)

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return Figure(
        name,
        len(latencies) / (time.monotonic() - began),
        quantile(latencies, 0.5),
        quantile(latencies, 0.99),
    )


async def paired(
    call: tuple[str, Callable[[], Awaitable[object]]],
    baseline: tuple[str, Callable[[], Awaitable[object]]],
    seconds: float,
    rounds: int,
) -> tuple[Figure, Figure]:
    """Alternates baseline and call `rounds` times and keeps each one's median round, so a burst
    of noise from the shared machine hits both sides instead of one."""
    calls, bases = [], []
    for _ in range(rounds):
        bases.append(await load(*baseline, seconds))
        calls.append(await load(*call, seconds))
    return _median(calls), _median(bases)


@dataclass
class Rounds:
    """A call against its baseline, round by round: throughput ratios and, when the servers'
    process ids are known, the ratios of their CPU time per call (sorted, lowest first)."""

    call: Figure
    base: Figure
    ratios: list[float]
    cpu_ratios: list[float]
    cpu_us: tuple[float, float]  # median CPU µs per call: the call's server, the baseline's

    @staticmethod
    def median(values: list[float]) -> float:
        return values[len(values) // 2] if values else float("nan")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuUse:
    """The CPU time this process (the client) and the processes `servers` names use from now
    on, per call: when every core is busy, throughput follows it, so the ratio of two calls'
    totals is the most their throughput ratio can be on this machine."""

    def __init__(self, servers: dict[str, list[int]]) -> None:
        self._servers = servers
        self._began = self._now()

    def _now(self) -> dict[str, float]:
        used = {name: sum(map(cpu_seconds, pids)) for name, pids in self._servers.items()}
        return {"client": time.process_time(), **used}

    def per_call(self, calls: float) -> dict[str, float]:
        """µs per call each side used since this began: the client first, then `servers`'."""
        now = self._now()
        return {name: (now[name] - self._began[name]) / calls * 1e6 for name in now}


def rss_mb(pid: int) -> float:
    """A process's resident memory, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1000
    return 0.0


async def round_ratios(
    call: tuple[str, Callable[[], Awaitable[object]], int],
    baseline: tuple[str, Callable[[], Awaitable[object]], int],
    seconds: float,
    rounds: int,
) -> Rounds:
    """As `paired`, for (name, call, server pid) pairs, comparing each round with the baseline's
    round just before it: a difference of a few per cent that drift of the machine between
    rounds would hide shows in the ratios' median, and the CPU per call shows what throughput
    bound by something else (a disk's fsync) cannot."""
    figures: dict[str, list[Figure]] = {"call": [], "base": []}
    cpu: dict[str, list[float]] = {"call": [], "base": []}
    for _ in range(rounds):
        for side, (name, action, pid) in (("base", baseline), ("call", call)):
            meter = CpuUse({"server": [pid]})
            figure = await load(name, action, seconds)
            figures[side].append(figure)
            # the warm-up's calls are not counted in the figure: count over the whole load
            cpu[side].append(meter.per_call(max(1.0, calls_made(figure, seconds)))["server"])
    pairs = list(zip(figures["call"], figures["base"], strict=True))
    return Rounds(
        _median(figures["call"]),
        _median(figures["base"]),
        sorted(c.rate / b.rate for c, b in pairs),
        sorted(c / b for c, b in zip(cpu["call"], cpu["base"], strict=True)),
        (Rounds.median(sorted(cpu["call"])), Rounds.median(sorted(cpu["base"]))),
    )


def _median(figures: list[Figure]) -> Figure:
    return sorted(figures, key=lambda f: f.rate)[len(figures) // 2]


def start(process: ManagedProcess, ready: Callable[[], None]) -> ManagedProcess:
    process.start()
    ready()
    return process


def service_process(
    service: str,
    label: str,
    *,
    work: Path,
    region: str,
    nats_url: str,
    db: Path | None = None,
    environment: dict[str, str] | None = None,
    **settings: str,
) -> ServiceProcess:
    """A service's process for a benchmark, logging to work/<service>-<label>.log, its database
    work/<service>-<label>.db unless given; `settings` are further ones, e.g. federation="sh,hz";
    `environment` holds variables beside the settings (OTEL_*)."""
    return ServiceProcess(
        f"{service}-{label}",
        service,
        port=free_port(),
        settings={
            "region": region,
            "db_path": db or work / f"{service}-{label}.db",
            "nats_url": nats_url,
            "jwks_file": JWKS,
            **TRANSPORT,
            # a benchmark is one caller writing as fast as it can: no limit in its way
            "write_rate_per_s": 1e9,
            "write_burst": 1_000_000_000,
            "log_level": "WARNING",
            **settings,
        },
        ca_file=None if PLAINTEXT else TLS.ca,
        log_path=work / f"{service}-{label}.log",
        environment=environment,
    )


def with_and_without_cache(
    service: str,
    processes: list[ManagedProcess],
    *,
    work: Path,
    region: str,
    nats_url: str,
    shared_db: bool,
) -> dict[str, ServiceProcess]:
    """Starts the service twice, "cached" (its read cache on) and "uncached" (off), on one
    database or on work/<service>-<label>.db each; adds both to `processes` so the caller stops
    them."""
    started = {}
    for label, cache_mb in (("cached", "16"), ("uncached", "0")):
        process = service_process(
            service,
            label,
            work=work,
            region=region,
            nats_url=nats_url,
            db=work / f"{service}.db" if shared_db else None,
            read_cache_mb=cache_mb,
        )
        processes.append(start(process, process.wait_ready))
        started[label] = process
    return started


def wait_tcp(port: int, process: ManagedProcess) -> Callable[[], None]:
    def ready() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            process.fail_if_exited()
            with target(f"127.0.0.1:{port}").channel() as ready_channel:
                try:
                    grpc.channel_ready_future(ready_channel).result(timeout=0.5)
                    return
                except grpc.FutureTimeoutError:
                    continue
        raise TimeoutError(f"{process.name} not ready")

    return ready


def row(fig: Figure, base: Figure, goal: str) -> str:
    return (
        f"| {fig.name} | {fig.rate:,.0f}/s | {fig.p50_ms:.2f} | {fig.p99_ms:.2f} "
        f"| {base.name}: {base.rate:,.0f}/s, p99 {base.p99_ms:.2f} ms "
        f"| **{fig.rate / base.rate:.2f}×** | {fig.p99_ms / base.p99_ms:.2f}× | {goal} |"
    )


def arguments(doc: str, rounds: int) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring as help, --seconds and --rounds of the loads."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per round")
    parser.add_argument("--rounds", type=int, default=rounds, help="alternating rounds per pair")
    return parser


def machine() -> str:
    """The line under a benchmark's table: when, with which Python, on how many cores."""
    return f"({time.strftime('%Y-%m-%d')}, python {sys.version.split()[0]}, {os.cpu_count()} cores)"
