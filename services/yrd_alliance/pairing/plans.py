"""Between the round's protobuf world and the solver's: the solver's input from a round and what
this region knows (lawyers, the carrier directory, startups' needs), and the plan back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from alliance.pairing.v1 import pairing_pb2 as pb
from google.protobuf.timestamp_pb2 import Timestamp

from yrd_alliance.kernel.errors import FailedPrecondition
from yrd_alliance.kernel.members import CARRIER
from yrd_alliance.kernel.names import new_id
from yrd_alliance.kernel.ports import Reader
from yrd_alliance.kernel.tables import tag_set
from yrd_alliance.pairing import rules
from yrd_alliance.pairing.rules import ASSIGNMENT
from yrd_alliance.pairing.scoring import CarrierProfile, Instance, LawyerProfile
from yrd_alliance.pairing.solver import Infeasible, Mode, Plan, solve
from yrd_alliance.pairing.store import DIRECTORY_CARRIERS, DIRECTORY_STARTUPS, LAWYERS

MODES = {pb.PAIRING_MODE_OPTIMAL: Mode.OPTIMAL, pb.PAIRING_MODE_STABLE: Mode.STABLE}


@dataclass(frozen=True)
class RoundInput:
    instance: Instance
    # Who took part before and is no longer available, with the reason (for replans).
    unavailable: dict[str, str]


def with_round_defaults(round_: pb.Round) -> pb.Round:
    filled = pb.Round()
    filled.CopyFrom(round_)
    for entry in filled.carriers:
        entry.slots = entry.slots or rules.DEFAULT_SLOTS
        if not entry.languages:
            entry.languages.extend(rules.DEFAULT_LANGUAGES)
    return filled


def round_input(
    reader: Reader,
    round_: pb.Round,
    *,
    strict: bool,
    paired_lawyers: Iterable[str] = (),
) -> RoundInput:
    """The solver's input. `strict` (a new round): every named carrier and lawyer must be known
    and active, or FAILED_PRECONDITION says which are not. Otherwise (a replan) those no longer
    available, among them any of `paired_lawyers`, are left out and reported."""
    unavailable: dict[str, str] = {}
    directory, startups = reader.rows(DIRECTORY_CARRIERS), reader.rows(DIRECTORY_STARTUPS)
    carriers = []
    for entry in round_.carriers:
        found = directory.columns(DIRECTORY_CARRIERS.where(name=entry.carrier))
        carrier = found[0] if found else None
        if carrier is None or not carrier["active"]:
            unavailable[entry.carrier] = (
                "the carrier is not in this region's directory"
                if carrier is None
                else "the carrier is no longer active"
            )
            continue
        carriers.append(
            CarrierProfile(
                entry.carrier,
                carrier["region"],
                tuple(
                    tag_set(startup["needs"])
                    for startup in startups.columns(DIRECTORY_STARTUPS.where(carrier=entry.carrier))
                ),
                frozenset(entry.languages),
                slots=entry.slots,
            )
        )
    taking_part = _round_lawyers(reader, round_.lawyers, unavailable)
    gone = set(paired_lawyers) - {x.name for x in taking_part} - unavailable.keys()
    _round_lawyers(reader, sorted(gone), unavailable)
    lawyers = []
    for lawyer in taking_part:
        lawyers.append(
            LawyerProfile(
                lawyer.name,
                lawyer.name.split("/")[1],
                frozenset(lawyer.specialties),
                frozenset(lawyer.languages),
                capacity=lawyer.capacity,
                conflicts=frozenset(c for c in lawyer.conflicts if CARRIER.matches(c)),
            )
        )
    if strict and unavailable:
        listed = "; ".join(f"{name}: {why}" for name, why in sorted(unavailable.items())[:5])
        raise FailedPrecondition(
            f"{len(unavailable)} of the round's carriers or lawyers cannot take part ({listed}); "
            "register them, wait for their events to arrive, or leave them out"
        )
    return RoundInput(Instance.of(lawyers, carriers), unavailable)


def _round_lawyers(
    reader: Reader, names: Iterable[str], unavailable: dict[str, str]
) -> list[pb.Lawyer]:
    names, lawyers = list(names), reader.rows(LAWYERS)
    if not names:
        return [x.message for x in lawyers.select(LAWYERS.where(state=pb.LAWYER_STATE_ACTIVE))]
    found = []
    for name in names:
        row = lawyers.find(name)
        if row is None:
            unavailable[name] = "the lawyer is not known in this region"
        elif row.message.state != pb.LAWYER_STATE_ACTIVE:
            state = pb.LawyerState.Name(row.message.state).removeprefix("LAWYER_STATE_").lower()
            unavailable[name] = f"the lawyer is {state.replace('_', ' ')}"
        else:
            found.append(row.message)
    return found


def plan_to_proto(plan: Plan) -> pb.Plan:
    return pb.Plan(
        pairs=[
            pb.PlannedPair(
                lawyer=p.lawyer,
                carrier=p.carrier,
                slot=p.slot,
                score=p.score,
                breakdown=pb.ScoreBreakdown(
                    focus=p.breakdown.focus,
                    breadth=p.breakdown.breadth,
                    region=p.breakdown.region,
                    language=p.breakdown.language,
                ),
                covered_startups=p.covered_startups,
                explanation=p.explanation,
            )
            for p in plan.pairs
        ],
        unmatched_lawyers=[
            pb.OpenPlace(name=u.id, count=u.count, reason=u.reason) for u in plan.unmatched_lawyers
        ],
        unfilled_carriers=[
            pb.OpenPlace(name=u.id, count=u.count, reason=u.reason) for u in plan.unfilled_carriers
        ],
        total_score=plan.total,
        fairness=pb.Fairness(
            blocking_pair_count=plan.fairness.blocking_count,
            blocking_pairs=[
                pb.BlockingPair(lawyer=x, carrier=c) for x, c in plan.fairness.blocking_examples
            ],
            lawyer_mean_rank=plan.fairness.lawyer_mean_rank,
            carrier_mean_rank=plan.fairness.carrier_mean_rank,
        ),
        solve_ms=plan.solve_ms,
    )


async def solve_round(
    round_: pb.Round,
    instance: Instance,
    incumbents: set[tuple[str, str]] | None = None,
    bonus: int = 0,
) -> Plan:
    """The round's plan, solved in a worker thread; an infeasible round is FAILED_PRECONDITION
    saying why."""
    try:
        return await asyncio.to_thread(
            solve,
            instance,
            MODES[round_.mode],
            require_full=round_.require_full,
            incumbents=incumbents or set(),
            incumbent_bonus=bonus,
        )
    except Infeasible as exc:
        raise FailedPrecondition(f"the round cannot be planned: {exc}") from None


def new_assignment(round_name: str, pair: pb.PlannedPair, now: Timestamp) -> pb.Assignment:
    assignment = pb.Assignment(
        name=f"{round_name}/assignments/{new_id()}",
        lawyer=pair.lawyer,
        carrier=pair.carrier,
        state=pb.ASSIGNMENT_STATE_ACTIVE,
        score=pair.score,
        explanation=pair.explanation,
    )
    assignment.start_time.CopyFrom(now)
    ASSIGNMENT.require("name", assignment.name)
    return assignment


def changes(
    before: set[tuple[str, str]],
    after: set[tuple[str, str]],
    unavailable: dict[str, str],
    min_gain: int,
) -> list[pb.PairChange]:
    """The pairs a replan removes (with why) and adds."""
    found = []
    for lawyer, carrier in sorted(before - after):
        reason = unavailable.get(lawyer) or unavailable.get(carrier)
        found.append(
            pb.PairChange(
                kind=pb.PairChange.KIND_REMOVED,
                lawyer=lawyer,
                carrier=carrier,
                reason=reason or f"replacing the pair gains more than {min_gain} points",
            )
        )
    opened = {c for x, c in before - after}
    for lawyer, carrier in sorted(after - before):
        found.append(
            pb.PairChange(
                kind=pb.PairChange.KIND_ADDED,
                lawyer=lawyer,
                carrier=carrier,
                reason="fills a place left open" if carrier in opened else "a new pair",
            )
        )
    return found
