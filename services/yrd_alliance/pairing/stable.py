"""Stability, free of I/O: lawyer-proposing deferred acceptance (hospital–resident with
capacities on both sides) on preference lists derived from the scores, and the fairness of any
plan measured by its blocking pairs and each side's mean rank of its partners."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from yrd_alliance.pairing.scoring import Instance, ScoreTable

BLOCKING_EXAMPLES = 20
Seats = list[tuple[int, int, int]]  # (lawyer, carrier, slot) indices


@dataclass(frozen=True)
class Fairness:
    blocking_count: int  # pairs who would both rather be together than with a partner they have
    blocking_examples: tuple[tuple[str, str], ...]  # the first few, by lawyer then carrier id
    lawyer_mean_rank: float  # 1.0 = every lawyer got its first choice
    carrier_mean_rank: float  # over each carrier's lawyers, 1.0 = its top choices


def ranks(pair: NDArray[np.int64], allowed: NDArray[np.bool_], axis: int) -> NDArray[np.int64]:
    """Each side's rank of the other (0 = best) among acceptable partners, along `axis`
    (1: lawyers rank carriers, 0: carriers rank lawyers). Ties go to the lower id: rows and
    columns are sorted by id and the sort is stable."""
    order = np.argsort(-pair, axis=axis, kind="stable")
    acceptable_before = np.cumsum(np.take_along_axis(allowed, order, axis=axis), axis=axis) - 1
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, acceptable_before, axis=axis)
    return rank


def preference_lists(
    table: ScoreTable, bonus: NDArray[np.int64]
) -> tuple[list[list[int]], NDArray[np.int64]]:
    """Each lawyer's acceptable carriers, best first; and each carrier's rank of every lawyer."""
    pair = table.pair + bonus
    order = np.argsort(-pair, axis=1, kind="stable")
    acceptable = np.take_along_axis(table.allowed, order, axis=1)
    lists = [row[keep].tolist() for row, keep in zip(order, acceptable, strict=True)]
    return lists, ranks(pair, table.allowed, axis=0)


def stable_seats(instance: Instance, table: ScoreTable, bonus: NDArray[np.int64]) -> Seats:
    lists, rank = preference_lists(table, bonus)
    capacity = [x.capacity for x in instance.lawyers]
    slots = [c.slots for c in instance.carriers]
    held: list[list[tuple[int, int]]] = [[] for _ in instance.carriers]  # max-heap (-rank, l)
    holding = [0] * len(instance.lawyers)
    next_choice = [0] * len(instance.lawyers)
    free = [i for i in range(len(instance.lawyers)) if lists[i]]
    while free:
        i = free.pop()
        while holding[i] < capacity[i] and next_choice[i] < len(lists[i]):
            j = lists[i][next_choice[i]]
            next_choice[i] += 1
            entry = (-int(rank[i, j]), i)
            if len(held[j]) < slots[j]:
                heapq.heappush(held[j], entry)
                holding[i] += 1
            elif entry > held[j][0]:  # carrier j prefers i to the worst lawyer it holds
                _, bumped = heapq.heapreplace(held[j], entry)
                holding[i] += 1
                holding[bumped] -= 1
                free.append(bumped)
    seats: Seats = []
    for j, heap in enumerate(held):
        lawyers = sorted(i for _, i in heap)
        seats.extend(seat_lawyers(table, bonus, j, lawyers, instance.carriers[j].slots))
    return seats


def seat_lawyers(
    table: ScoreTable, bonus: NDArray[np.int64], carrier: int, lawyers: list[int], slots: int
) -> Seats:
    """Puts a carrier's matched lawyers in its slots for the highest total score."""
    if not lawyers:
        return []
    value = table.total[lawyers, carrier, :slots] + bonus[lawyers, carrier][:, None]
    rows, cols = linear_sum_assignment(-value.astype(np.float64))
    return [(lawyers[r], carrier, int(k)) for r, k in zip(rows, cols, strict=True)]


def fairness(instance: Instance, table: ScoreTable, seats: Seats) -> Fairness:
    """Blocking pairs and each side's mean rank of its partners (1 = first choice), judged by
    the scores alone. (i, j) blocks when both are acceptable to each other, not paired, and each
    has room or prefers the other to its worst partner."""
    pair, allowed = table.pair, table.allowed
    lawyer_rank = ranks(pair, allowed, axis=1)
    carrier_rank = ranks(pair, allowed, axis=0)
    n_l, n_c = pair.shape
    paired = np.zeros((n_l, n_c), dtype=bool)
    for i, j, _ in seats:
        paired[i, j] = True
    never = np.iinfo(np.int64).max
    lawyer_worst = np.where(paired, lawyer_rank, -1).max(axis=1, initial=-1)
    lawyer_room = paired.sum(axis=1) < np.array([x.capacity for x in instance.lawyers])
    lawyer_worst = np.where(lawyer_room, never, lawyer_worst)
    carrier_worst = np.where(paired, carrier_rank, -1).max(axis=0, initial=-1)
    carrier_room = paired.sum(axis=0) < np.array([c.slots for c in instance.carriers])
    carrier_worst = np.where(carrier_room, never, carrier_worst)
    blocks = (
        allowed
        & ~paired
        & (lawyer_rank < lawyer_worst[:, None])
        & (carrier_rank < carrier_worst[None, :])
    )
    lawyer_ranks = [int(lawyer_rank[i, j]) + 1 for i, j, _ in seats]
    carrier_ranks = [int(carrier_rank[i, j]) + 1 for i, j, _ in seats]
    rows, cols = np.nonzero(blocks)
    return Fairness(
        len(rows),
        tuple(
            (instance.lawyers[i].id, instance.carriers[j].id)
            for i, j in zip(rows[:BLOCKING_EXAMPLES], cols[:BLOCKING_EXAMPLES], strict=True)
        ),
        round(float(np.mean(lawyer_ranks)), 3) if lawyer_ranks else 0.0,
        round(float(np.mean(carrier_ranks)), 3) if carrier_ranks else 0.0,
    )
