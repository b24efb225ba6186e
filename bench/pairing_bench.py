"""Pairing solver benchmark: every figure beside a baseline measured in the same run.

  40 × 10          the article's round, OPTIMAL and STABLE (goal: ≤ 20 ms), p50/p99 of many runs
                   ÷ scipy's linear_sum_assignment on a random 40 × 40 matrix (the bare solver)
  2000 × 500 × 4   OPTIMAL (goal: ≤ 1 s) ÷ the bare solver on a random 2000 × 2000 matrix;
                   STABLE ÷ the `matching` library's hospital–resident solver on the same
                   preference lists (goal: ours ≥ 10× faster), checked to give the same matching

Run: make bench   (the `matching` peer alone takes about two minutes at full size;
     --quick compares it at 200 × 50 instead)
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from yrd_alliance.pairing.scoring import CarrierProfile, Instance, LawyerProfile, score_table
from yrd_alliance.pairing.solver import Mode, Plan, solve
from yrd_alliance.pairing.stable import preference_lists

REGIONS = ("sh", "hz", "zjg")
AREAS = range(1, 10)


def instance(lawyers: int, carriers: int, seed: int = 1) -> Instance:
    """Carriers with 23 startups of 1–3 legal needs each, as in the article; lawyers with 1–3
    specialties, some speaking English, a few conflicts of interest."""
    rng = random.Random(seed)
    carrier_ids = [f"regions/{REGIONS[j % 3]}/carriers/{j:05d}" for j in range(carriers)]
    return Instance.of(
        [
            LawyerProfile(
                f"regions/{REGIONS[i % 3]}/lawyers/{i:05d}",
                REGIONS[i % 3],
                frozenset(rng.sample(AREAS, rng.randint(1, 3))),
                frozenset({"zh", "en"} if rng.random() < 0.3 else {"zh"}),
                conflicts=frozenset({rng.choice(carrier_ids)} if rng.random() < 0.05 else ()),
            )
            for i in range(lawyers)
        ],
        [
            CarrierProfile(
                carrier_ids[j],
                REGIONS[j % 3],
                tuple(frozenset(rng.sample(AREAS, rng.randint(1, 3))) for _ in range(23)),
                frozenset({"zh", "en"} if rng.random() < 0.2 else {"zh"}),
                slots=4,
            )
            for j in range(carriers)
        ],
    )


@dataclass
class Figure:
    name: str
    p50_ms: float
    p99_ms: float
    baseline: str
    baseline_ms: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.p50_ms / self.baseline_ms


def timed(call: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.99) - 1)]


def bare_assignment(size: int, runs: int) -> float:
    matrix = np.random.default_rng(0).integers(0, 200, (size, size)).astype(np.float64)
    return statistics.median(timed(lambda: linear_sum_assignment(matrix, maximize=True), runs))


def peer_stable(inst: Instance) -> tuple[float, set[tuple[str, str]], bool]:
    """The `matching` library's resident-optimal hospital–resident solver on our preference
    lists: (ms, the matching, whether it reports the matching stable)."""
    from matching.games import HospitalResident

    table = score_table(inst)
    lists, rank = preference_lists(table, np.zeros_like(table.pair))
    lawyers = [x.id for x in inst.lawyers]
    carriers = [c.id for c in inst.carriers]
    resident_prefs = {lawyers[i]: [carriers[j] for j in lists[i]] for i in range(len(lawyers))}
    hospital_prefs = {
        carriers[j]: [
            lawyers[i] for i in np.argsort(rank[:, j], kind="stable") if table.allowed[i, j]
        ]
        for j in range(len(carriers))
    }
    capacities = {c.id: c.slots for c in inst.carriers}
    result: dict[str, object] = {}

    def run() -> None:  # the library recurses deeply while copying its players
        started = time.perf_counter()
        game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
        matching = game.solve(optimal="resident")
        result["ms"] = (time.perf_counter() - started) * 1000
        result["pairs"] = {(r.name, h.name) for h, rs in matching.items() for r in rs}
        result["stable"] = game.check_stability()

    sys.setrecursionlimit(1_000_000)
    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return result["ms"], result["pairs"], result["stable"]  # type: ignore[return-value]


def pairs_of(plan: Plan) -> set[tuple[str, str]]:
    return {(p.lawyer, p.carrier) for p in plan.pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="run the peer at 200 × 50")
    args = parser.parse_args()
    figures = []

    small = instance(40, 10)
    bare_small = bare_assignment(40, 500)
    for mode in Mode:
        samples = timed(lambda mode=mode: solve(small, mode), 300)
        figures.append(
            Figure(
                f"40 × 10, {mode.name}",
                statistics.median(samples),
                p99(samples),
                "bare LSA 40 × 40",
                bare_small,
                "goal ≤ 20 ms",
            )
        )
        print(f"  {figures[-1].name}: p50 {figures[-1].p50_ms:.2f} ms", flush=True)

    large = instance(2000, 500)
    print("  2000 × 500 × 4 …", flush=True)
    bare_large = bare_assignment(2000, 3)
    optimal = timed(lambda: solve(large, Mode.OPTIMAL), 5)
    figures.append(
        Figure(
            "2000 × 500 × 4, OPTIMAL",
            statistics.median(optimal),
            max(optimal),
            "bare LSA 2000 × 2000",
            bare_large,
            "goal ≤ 1 s; p99 = slowest of 5",
        )
    )
    stable = timed(lambda: solve(large, Mode.STABLE), 5)
    stable_plan = solve(large, Mode.STABLE)
    peer_instance = instance(200, 50) if args.quick else large
    peer_plan = solve(peer_instance, Mode.STABLE) if args.quick else stable_plan
    ours_ms = statistics.median(timed(lambda: solve(peer_instance, Mode.STABLE), 5))
    print(
        f"  `matching` on {len(peer_instance.lawyers)} × {len(peer_instance.carriers)} …",
        flush=True,
    )
    peer_ms, peer_pairs, peer_stable_ok = peer_stable(peer_instance)
    same = peer_pairs == pairs_of(peer_plan)
    figures.append(
        Figure(
            "2000 × 500 × 4, STABLE",
            statistics.median(stable),
            max(stable),
            f"`matching` HR at {len(peer_instance.lawyers)} × {len(peer_instance.carriers)}",
            peer_ms,
            f"ours {ours_ms:.0f} ms there: {peer_ms / ours_ms:.0f}× faster; same matching: "
            f"{same}; peer says stable: {peer_stable_ok}; our blocking pairs: "
            f"{stable_plan.fairness.blocking_count}",
        )
    )

    print()
    print("| figure | p50 | p99 | baseline (same run) | ratio to baseline | note |")
    print("| --- | ---: | ---: | --- | ---: | --- |")
    for f in figures:
        print(
            f"| {f.name} | {f.p50_ms:.2f} ms | {f.p99_ms:.2f} ms | {f.baseline} "
            f"{f.baseline_ms:.2f} ms | {f.ratio:.3g}× | {f.note} |"
        )
    if not same:
        raise SystemExit("our STABLE matching differs from the peer's resident-optimal one")


if __name__ == "__main__":
    main()
