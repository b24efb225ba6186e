"""How well a lawyer suits a carrier, free of I/O: the numbers both solvers optimise and the
sentences that explain them.

A carrier's slots are ranked by its startups' legal needs: slot 0 focuses on the need most of
its startups share, slot 1 on the next, and so on. A lawyer in slot k earns

- focus: FOCUS × the share of the carrier's startups needing slot k's area, if the lawyer
  practises it — so a carrier's lawyers are pulled towards *different* needs;
- breadth: BREADTH × DECAY^k × the share of startups with any need the lawyer practises —
  general coverage counts less with every further lawyer (diminishing returns);
- region: REGION when lawyer and carrier are in the same region;
- language: LANGUAGE × the share of the carrier's working languages the lawyer speaks.

Scores are whole points, so totals compare exactly and ties are real ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

# Legal areas as numbered in alliance.type.v1.LegalArea.
AREA_LABELS = {
    1: "corporate",
    2: "IP",
    3: "labour",
    4: "financing",
    5: "contracts",
    6: "compliance",
    7: "data & privacy",
    8: "tax",
    9: "disputes",
}
AREAS = len(AREA_LABELS) + 1  # index 0 is unused, so an area's number is its column


@dataclass(frozen=True)
class Weights:
    focus: int = 100
    breadth: int = 40
    decay: float = 0.5
    region: int = 20
    language: int = 10


@dataclass(frozen=True)
class LawyerProfile:
    id: str  # the lawyer's resource name; ties are broken by it
    region: str
    specialties: frozenset[int]
    languages: frozenset[str] = frozenset({"zh"})
    capacity: int = 1
    conflicts: frozenset[str] = frozenset()  # carrier ids this lawyer must not serve


@dataclass(frozen=True)
class CarrierProfile:
    id: str  # the carrier's resource name; ties are broken by it
    region: str
    startup_needs: tuple[frozenset[int], ...]  # one set of legal areas per startup
    languages: frozenset[str] = frozenset({"zh"})
    slots: int = 4

    @cached_property
    def need_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for needs in self.startup_needs:
            for area in needs:
                counts[area] = counts.get(area, 0) + 1
        return counts

    @cached_property
    def focus_areas(self) -> list[int]:
        """Its needs, most shared first (ties by area number); one per slot while they last."""
        counts = self.need_counts
        return sorted(counts, key=lambda a: (-counts[a], a))[: self.slots]


@dataclass(frozen=True)
class Breakdown:
    focus: int = 0
    breadth: int = 0
    region: int = 0
    language: int = 0

    @property
    def total(self) -> int:
        return self.focus + self.breadth + self.region + self.language


@dataclass(frozen=True)
class Instance:
    """A round's input, sorted by id so that the same input always gives the same plan."""

    lawyers: tuple[LawyerProfile, ...]
    carriers: tuple[CarrierProfile, ...]
    weights: Weights = field(default_factory=Weights)

    @staticmethod
    def of(
        lawyers: Sequence[LawyerProfile],
        carriers: Sequence[CarrierProfile],
        weights: Weights | None = None,
    ) -> Instance:
        return Instance(
            tuple(sorted(lawyers, key=lambda x: x.id)),
            tuple(sorted(carriers, key=lambda x: x.id)),
            weights or Weights(),
        )

    @property
    def max_slots(self) -> int:
        return max((c.slots for c in self.carriers), default=0)


@dataclass(frozen=True)
class ScoreTable:
    """Every lawyer × carrier × slot score, split into its parts, and which pairs are allowed."""

    focus: NDArray[np.int64]  # lawyers × carriers × slots
    breadth: NDArray[np.int64]  # lawyers × carriers × slots
    region: NDArray[np.int64]  # lawyers × carriers
    language: NDArray[np.int64]  # lawyers × carriers
    allowed: NDArray[np.bool_]  # lawyers × carriers: no conflict of interest
    covered: NDArray[np.int64]  # lawyers × carriers: startups with a need the lawyer practises

    @cached_property
    def total(self) -> NDArray[np.int64]:
        """lawyers × carriers × slots; a slot beyond a carrier's own count scores like its last."""
        return self.focus + self.breadth + (self.region + self.language)[:, :, None]

    @cached_property
    def pair(self) -> NDArray[np.int64]:
        """lawyers × carriers: a pair's suitability regardless of slot (its best slot)."""
        return np.asarray(self.total.max(axis=2), dtype=np.int64)

    def breakdown(self, lawyer: int, carrier: int, slot: int) -> Breakdown:
        return Breakdown(
            int(self.focus[lawyer, carrier, slot]),
            int(self.breadth[lawyer, carrier, slot]),
            int(self.region[lawyer, carrier]),
            int(self.language[lawyer, carrier]),
        )


def _mask(areas: frozenset[int]) -> int:
    bits = 0
    for area in areas:
        bits |= 1 << area
    return bits


def score_table(instance: Instance) -> ScoreTable:
    lawyers, carriers, w = instance.lawyers, instance.carriers, instance.weights
    n_l, n_c, n_k = len(lawyers), len(carriers), max(instance.max_slots, 1)
    specialties = np.zeros((n_l, AREAS), dtype=bool)
    for i, lawyer in enumerate(lawyers):
        specialties[i, [a for a in lawyer.specialties if 0 < a < AREAS]] = True
    lawyer_masks = np.array([_mask(x.specialties) for x in lawyers], dtype=np.int64)

    # covered[l, c]: the carrier's startups with a need the lawyer practises, counted once per
    # distinct pair of (lawyer specialties, startup needs) rather than per lawyer × startup.
    distinct_lawyer_masks, lawyer_kind = np.unique(lawyer_masks, return_inverse=True)
    covered_by_kind = np.zeros((len(distinct_lawyer_masks), n_c), dtype=np.int64)
    startups = np.zeros(n_c, dtype=np.int64)
    focus_share = np.zeros((n_c, n_k), dtype=np.float64)
    focus_area = np.zeros((n_c, n_k), dtype=np.int64)
    for j, carrier in enumerate(carriers):
        startups[j] = len(carrier.startup_needs)
        masks, counts = np.unique(
            np.array([_mask(n) for n in carrier.startup_needs] or [0], dtype=np.int64),
            return_counts=True,
        )
        if carrier.startup_needs:
            hits = (distinct_lawyer_masks[:, None] & masks[None, :]) != 0
            covered_by_kind[:, j] = hits @ counts
        needs = carrier.need_counts
        for k, area in enumerate(carrier.focus_areas):
            focus_area[j, k] = area
            focus_share[j, k] = needs[area] / len(carrier.startup_needs)
    covered = covered_by_kind[lawyer_kind.reshape(-1)] if n_l else np.zeros((0, n_c), np.int64)

    practises_focus = specialties[:, focus_area] & (focus_area > 0)[None, :, :]
    focus = np.rint(w.focus * focus_share[None, :, :] * practises_focus).astype(np.int64)
    coverage = covered / np.maximum(startups, 1)[None, :]
    decay = w.decay ** np.arange(n_k)
    breadth = np.rint(w.breadth * coverage[:, :, None] * decay[None, None, :]).astype(np.int64)

    regions = sorted({x.region for x in lawyers} | {c.region for c in carriers})
    codes = {r: n for n, r in enumerate(regions)}
    lawyer_regions = np.array([codes[x.region] for x in lawyers], dtype=np.int64)
    carrier_regions = np.array([codes[c.region] for c in carriers], dtype=np.int64)
    same_region = lawyer_regions[:, None] == carrier_regions[None, :]
    region = np.where(same_region, w.region, 0).astype(np.int64)
    language = _language_points(lawyers, carriers, w.language)
    index = {c.id: j for j, c in enumerate(carriers)}
    allowed = np.ones((n_l, n_c), dtype=bool)
    for i, lawyer in enumerate(lawyers):
        allowed[i, [index[c] for c in lawyer.conflicts if c in index]] = False
    return ScoreTable(focus, breadth, region, language, allowed, covered)


def _language_points(
    lawyers: Sequence[LawyerProfile], carriers: Sequence[CarrierProfile], weight: int
) -> NDArray[np.int64]:
    """Computed once per distinct pair of language sets: there are only a handful."""
    lawyer_sets = sorted({x.languages for x in lawyers}, key=sorted)
    carrier_sets = sorted({c.languages for c in carriers}, key=sorted)
    points = np.array(
        [
            [round(weight * len(a & b) / len(b)) if b else 0 for b in carrier_sets]
            for a in lawyer_sets
        ],
        dtype=np.int64,
    ).reshape(len(lawyer_sets), len(carrier_sets))
    rows = np.array([lawyer_sets.index(x.languages) for x in lawyers], dtype=np.int64)
    cols = np.array([carrier_sets.index(c.languages) for c in carriers], dtype=np.int64)
    return points[rows[:, None], cols[None, :]]


def explain(
    lawyer: LawyerProfile, carrier: CarrierProfile, slot: int, breakdown: Breakdown, covered: int
) -> str:
    """One sentence a reviewer can check, e.g. 'covers IP and financing needs of 9 of 23
    startups; leads on IP (12 startups); same region (sh); speaks en'."""
    needs = carrier.need_counts
    areas = [AREA_LABELS[a] for a in sorted(lawyer.specialties & needs.keys())]
    parts = []
    if areas:
        listed = ", ".join(areas[:-1]) + " and " + areas[-1] if len(areas) > 1 else areas[0]
        parts.append(f"covers {listed} needs of {covered} of {len(carrier.startup_needs)} startups")
    else:
        parts.append("covers none of its startups' stated needs")
    focus = carrier.focus_areas
    if breakdown.focus and slot < len(focus):
        parts.append(f"leads on {AREA_LABELS[focus[slot]]} ({needs[focus[slot]]} startups)")
    if breakdown.region:
        parts.append(f"same region ({carrier.region})")
    shared = sorted(lawyer.languages & carrier.languages - {"zh"})
    if shared:
        parts.append("speaks " + ", ".join(shared))
    return "; ".join(parts)
