"""The pairing solver with no I/O: each property is checked against an independent computation
(brute force, a naive scorer, an integer programme, a blocking-pair checker written here)."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yrd_alliance.pairing.scoring import (
    CarrierProfile,
    Instance,
    LawyerProfile,
    Weights,
    score_table,
)
from yrd_alliance.pairing.solver import Infeasible, Mode, Plan, solve

REGIONS = ("sh", "hz", "zjg")
AREAS = range(1, 10)


@st.composite
def instances(draw: st.DrawFn, max_lawyers: int = 5, max_carriers: int = 3) -> Instance:
    carriers = []
    for j in range(draw(st.integers(1, max_carriers))):
        needs = draw(st.lists(st.frozensets(st.sampled_from(AREAS), max_size=3), max_size=6))
        carriers.append(
            CarrierProfile(
                f"regions/sh/carriers/c{j}",
                draw(st.sampled_from(REGIONS)),
                tuple(needs),
                draw(st.sampled_from([frozenset({"zh"}), frozenset({"zh", "en"})])),
                slots=draw(st.integers(1, 2)),
            )
        )
    lawyers = []
    for i in range(draw(st.integers(1, max_lawyers))):
        conflicts = draw(st.frozensets(st.sampled_from([c.id for c in carriers]), max_size=2))
        lawyers.append(
            LawyerProfile(
                f"regions/hz/lawyers/l{i}",
                draw(st.sampled_from(REGIONS)),
                draw(st.frozensets(st.sampled_from(AREAS), min_size=1, max_size=3)),
                draw(st.sampled_from([frozenset({"zh"}), frozenset({"zh", "en"})])),
                capacity=draw(st.integers(1, 2)),
                conflicts=conflicts,
            )
        )
    return Instance.of(lawyers, carriers)


def naive_score(lawyer: LawyerProfile, carrier: CarrierProfile, slot: int, w: Weights) -> int:
    """The scoring rule of pairing.scoring, written out for one pair without numpy."""
    startups = len(carrier.startup_needs)
    counts = Counter(a for needs in carrier.startup_needs for a in needs)
    ranked = sorted(counts, key=lambda a: (-counts[a], a))[: carrier.slots]
    focus = 0
    if slot < len(ranked) and ranked[slot] in lawyer.specialties:
        focus = round(w.focus * (counts[ranked[slot]] / startups))
    covered = sum(1 for needs in carrier.startup_needs if needs & lawyer.specialties)
    breadth = round(w.breadth * (covered / max(startups, 1)) * w.decay**slot)
    region = w.region if lawyer.region == carrier.region else 0
    shared = len(lawyer.languages & carrier.languages)
    language = round(w.language * shared / len(carrier.languages))
    return focus + breadth + region + language


def brute_force(instance: Instance) -> tuple[int, int]:
    """(most pairs, best total among those) over every feasible seating."""
    seats = [(c, k) for c in instance.carriers for k in range(c.slots)]
    w = instance.weights
    best = (0, 0)

    def options(lawyer: LawyerProfile, taken: frozenset[tuple[str, int]]):  # type: ignore[no-untyped-def]
        free = [(c, k) for c, k in seats if (c.id, k) not in taken and c.id not in lawyer.conflicts]
        for n in range(lawyer.capacity + 1):
            for combo in itertools.combinations(free, n):
                if len({c.id for c, _ in combo}) == n:  # never one carrier twice
                    yield combo

    def walk(i: int, taken: frozenset[tuple[str, int]], pairs: int, total: int) -> None:
        nonlocal best
        if i == len(instance.lawyers):
            best = max(best, (pairs, total))
            return
        lawyer = instance.lawyers[i]
        for combo in options(lawyer, taken):
            walk(
                i + 1,
                taken | {(c.id, k) for c, k in combo},
                pairs + len(combo),
                total + sum(naive_score(lawyer, c, k, w) for c, k in combo),
            )

    walk(0, frozenset(), 0, 0)
    return best


def blocking_pairs(instance: Instance, plan: Plan) -> list[tuple[str, str]]:
    """Pairs (l, c), acceptable to both and not paired, where each has room or would rather
    have the other than its worst partner. Preference = the pair's best slot score, ties to
    the lower id."""
    w = instance.weights

    def suit(lawyer: LawyerProfile, carrier: CarrierProfile) -> int:
        return max(naive_score(lawyer, carrier, k, w) for k in range(instance.max_slots))

    def lawyer_prefers(lawyer: LawyerProfile, a: CarrierProfile, b: CarrierProfile) -> bool:
        return (-suit(lawyer, a), a.id) < (-suit(lawyer, b), b.id)

    def carrier_prefers(carrier: CarrierProfile, a: LawyerProfile, b: LawyerProfile) -> bool:
        return (-suit(a, carrier), a.id) < (-suit(b, carrier), b.id)

    carriers = {c.id: c for c in instance.carriers}
    lawyers = {x.id: x for x in instance.lawyers}
    paired = {(p.lawyer, p.carrier) for p in plan.pairs}
    found = []
    for lawyer in instance.lawyers:
        mine = [carriers[c] for x, c in paired if x == lawyer.id]
        for carrier in instance.carriers:
            if (lawyer.id, carrier.id) in paired or carrier.id in lawyer.conflicts:
                continue
            theirs = [lawyers[x] for x, c in paired if c == carrier.id]
            lawyer_wants = len(mine) < lawyer.capacity or any(
                lawyer_prefers(lawyer, carrier, m) for m in mine
            )
            carrier_wants = len(theirs) < carrier.slots or any(
                carrier_prefers(carrier, lawyer, t) for t in theirs
            )
            if lawyer_wants and carrier_wants:
                found.append((lawyer.id, carrier.id))
    return found


def check_feasible(instance: Instance, plan: Plan) -> None:
    lawyers = {x.id: x for x in instance.lawyers}
    carriers = {c.id: c for c in instance.carriers}
    per_lawyer = Counter(p.lawyer for p in plan.pairs)
    per_carrier = Counter(p.carrier for p in plan.pairs)
    assert all(per_lawyer[x] <= lawyers[x].capacity for x in per_lawyer)
    assert all(per_carrier[c] <= carriers[c].slots for c in per_carrier)
    assert len({(p.carrier, p.slot) for p in plan.pairs}) == len(plan.pairs)
    assert len({(p.lawyer, p.carrier) for p in plan.pairs}) == len(plan.pairs)
    assert all(p.carrier not in lawyers[p.lawyer].conflicts for p in plan.pairs)
    assert all(p.slot < carriers[p.carrier].slots for p in plan.pairs)


def solvable(instance: Instance) -> bool:
    carrier_ids = {c.id for c in instance.carriers}
    return not all(carrier_ids <= x.conflicts for x in instance.lawyers)


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(instances())
def test_optimal_equals_the_brute_force_optimum(instance: Instance) -> None:
    if not solvable(instance):
        with pytest.raises(Infeasible, match="conflict of interest"):
            solve(instance, Mode.OPTIMAL)
        return
    plan = solve(instance, Mode.OPTIMAL)
    check_feasible(instance, plan)
    assert (len(plan.pairs), plan.total) == brute_force(instance)


@FAST
@given(instances(max_lawyers=8, max_carriers=4))
def test_stable_has_no_blocking_pair_and_respects_every_constraint(instance: Instance) -> None:
    if not solvable(instance):
        return
    plan = solve(instance, Mode.STABLE)
    check_feasible(instance, plan)
    assert blocking_pairs(instance, plan) == []
    assert plan.fairness.blocking_count == 0


@FAST
@given(instances(max_lawyers=6, max_carriers=3))
def test_the_solver_reports_the_blocking_pairs_the_checker_finds(instance: Instance) -> None:
    if not solvable(instance):
        return
    plan = solve(instance, Mode.OPTIMAL)
    found = blocking_pairs(instance, plan)
    assert plan.fairness.blocking_count == len(found)
    assert list(plan.fairness.blocking_examples) == sorted(found)[:20]


@FAST
@given(instances(max_lawyers=4, max_carriers=3))
def test_scores_follow_the_written_rule(instance: Instance) -> None:
    table = score_table(instance)
    for i, lawyer in enumerate(instance.lawyers):
        for j, carrier in enumerate(instance.carriers):
            for k in range(carrier.slots):
                expected = naive_score(lawyer, carrier, k, instance.weights)
                assert table.breakdown(i, j, k).total == expected


def random_instance(seed: int, lawyers: int, carriers: int, slots: int = 4) -> Instance:
    rng = random.Random(seed)
    return Instance.of(
        [
            LawyerProfile(
                f"regions/{rng.choice(REGIONS)}/lawyers/{i:05d}",
                rng.choice(REGIONS),
                frozenset(rng.sample(AREAS, rng.randint(1, 3))),
                frozenset({"zh", *rng.sample(["en", "ja"], rng.randint(0, 1))}),
                conflicts=frozenset(
                    {f"regions/sh/carriers/{rng.randrange(carriers):04d}"}
                    if rng.random() < 0.1
                    else set()
                ),
            )
            for i in range(lawyers)
        ],
        [
            CarrierProfile(
                f"regions/sh/carriers/{j:04d}",
                rng.choice(REGIONS),
                tuple(
                    frozenset(rng.sample(AREAS, rng.randint(1, 3)))
                    for _ in range(rng.randint(5, 30))
                ),
                frozenset({"zh", *rng.sample(["en", "ja"], rng.randint(0, 1))}),
                slots=slots,
            )
            for j in range(carriers)
        ],
    )


@pytest.mark.parametrize("seed", range(3))
def test_optimal_matches_an_integer_programme_on_larger_instances(seed: int) -> None:
    """The assignment path against scipy's MILP path, which models the same problem as an
    integer programme; doubling every capacity would change the answer, so force the MILP by
    giving one lawyer who cannot be used (conflicts everywhere) a capacity of 2."""
    instance = random_instance(seed, lawyers=60, carriers=12)
    assignment = solve(instance, Mode.OPTIMAL)
    every_carrier = frozenset(c.id for c in instance.carriers)
    idle = LawyerProfile(
        "regions/zz/lawyers/idle", "zz", frozenset({1}), capacity=2, conflicts=every_carrier
    )
    programme = solve(Instance.of([*instance.lawyers, idle], instance.carriers), Mode.OPTIMAL)
    assert (len(programme.pairs), programme.total) == (len(assignment.pairs), assignment.total)


def test_the_article_round_gives_every_carrier_four_lawyers_and_each_lawyer_one() -> None:
    instance = random_instance(7, lawyers=40, carriers=10)
    for mode in Mode:
        plan = solve(instance, mode)
        check_feasible(instance, plan)
        assert Counter(p.carrier for p in plan.pairs) == {c.id: 4 for c in instance.carriers}
        assert Counter(p.lawyer for p in plan.pairs) == {x.id: 1 for x in instance.lawyers}
        assert not plan.unmatched_lawyers and not plan.unfilled_carriers
        assert all(p.explanation for p in plan.pairs)


def test_the_same_input_in_any_order_gives_the_same_plan() -> None:
    instance = random_instance(3, lawyers=40, carriers=10)
    shuffled = list(instance.lawyers)
    random.Random(1).shuffle(shuffled)
    again = Instance.of(shuffled, list(reversed(instance.carriers)))
    for mode in Mode:
        assert solve(instance, mode).pairs == solve(again, mode).pairs


def test_too_few_lawyers_leave_slots_open_with_the_reason_or_fail_when_asked() -> None:
    instance = random_instance(4, lawyers=30, carriers=10)
    plan = solve(instance, Mode.OPTIMAL)
    assert sum(u.count for u in plan.unfilled_carriers) == 10
    assert "30 lawyer places for 40 slots" in plan.unfilled_carriers[0].reason
    with pytest.raises(Infeasible, match="fewer lawyers than their slots"):
        solve(instance, Mode.OPTIMAL, require_full=True)


@pytest.mark.parametrize(
    ("lawyers", "carriers", "reason"),
    [(0, 3, "no active lawyers"), (3, 0, "no active carriers")],
)
def test_an_empty_side_is_infeasible(lawyers: int, carriers: int, reason: str) -> None:
    instance = random_instance(5, lawyers=max(lawyers, 1), carriers=max(carriers, 1))
    empty = Instance.of(instance.lawyers[:lawyers], instance.carriers[:carriers])
    for mode in Mode:
        with pytest.raises(Infeasible, match=reason):
            solve(empty, mode)


def test_a_carrier_everyone_conflicts_with_is_reported_not_forced() -> None:
    instance = random_instance(6, lawyers=20, carriers=4)
    shunned = instance.carriers[0].id
    lawyers = [
        LawyerProfile(x.id, x.region, x.specialties, x.languages, conflicts=frozenset({shunned}))
        for x in instance.lawyers
    ]
    plan = solve(Instance.of(lawyers, instance.carriers), Mode.OPTIMAL)
    assert all(p.carrier != shunned for p in plan.pairs)
    (unfilled,) = [u for u in plan.unfilled_carriers if u.id == shunned]
    assert "conflict of interest" in unfilled.reason


def test_replanning_keeps_pairs_unless_the_gain_beats_the_threshold() -> None:
    instance = random_instance(8, lawyers=40, carriers=10)
    first = solve(instance, Mode.OPTIMAL)
    current = {(p.lawyer, p.carrier) for p in first.pairs}
    leaving = first.pairs[0].lawyer
    newcomer = LawyerProfile("regions/sh/lawyers/new", "sh", frozenset(AREAS), frozenset({"zh"}))
    churned = Instance.of(
        [*(x for x in instance.lawyers if x.id != leaving), newcomer], instance.carriers
    )
    sticky = solve(churned, Mode.OPTIMAL, incumbents=current, incumbent_bonus=10_000)
    after = {(p.lawyer, p.carrier) for p in sticky.pairs}
    assert current - after == {(leaving, first.pairs[0].carrier)}
    assert after - current == {("regions/sh/lawyers/new", first.pairs[0].carrier)}
    fresh = solve(churned, Mode.OPTIMAL)
    free = solve(churned, Mode.OPTIMAL, incumbents=current, incumbent_bonus=0)
    assert free.total == fresh.total >= sticky.total
