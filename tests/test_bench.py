"""The benchmarks are not run by the suite (they take minutes), so it checks what would stop
`make bench` at once: every benchmark module imports, and every one the Makefile runs exists;
and the one helper whose figures the README's explanation rests on."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "bench").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_every_benchmark_module_imports(module: str) -> None:
    assert importlib.import_module(f"bench.{module}").__doc__, (
        f"bench.{module} says what it measures"
    )


def test_make_bench_runs_every_benchmark_and_only_those() -> None:
    target = re.search(r"^bench:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert target, "the Makefile has a bench target"
    run = re.findall(r"-m bench\.(\w+)", target.group(1))
    assert sorted(run) == sorted(m for m in MODULES if m.endswith("_bench"))


def test_cpu_use_counts_each_side_per_call() -> None:
    """The CPU table of the sharing benchmark: a server that spins 0.4 s of CPU over 4 calls
    used about 100 ms per call, and the client, which only waited, far less."""
    from bench.harness import CpuUse

    spin = (
        "import sys, time\nend = time.process_time() + 0.4\n"
        "while time.process_time() < end: pass\nprint(flush=True)\nsys.stdin.read()"
    )  # then it waits, alive, so that its CPU time can still be read
    server = subprocess.Popen(
        [sys.executable, "-c", spin], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        meter = CpuUse({"server": [server.pid]})
        assert server.stdout is not None
        server.stdout.readline()  # python's start, then the spin; the client only waits
        used = meter.per_call(4)
    finally:
        server.kill()
        server.wait()
    assert set(used) == {"client", "server"}
    assert 90_000 <= used["server"] <= 150_000, used
    assert used["client"] < 10_000, used
