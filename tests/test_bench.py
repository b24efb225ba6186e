"""The benchmarks are not run by the suite (they take minutes), so it checks what would stop
`make bench` at once: every benchmark module imports, and every one the Makefile runs exists."""

from __future__ import annotations

import importlib
import re
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
